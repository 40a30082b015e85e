import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessage } from '../../src/errors.js';

describe('errorMessage', () => {
  test('an Error gives its message', () => {
    assert.equal(errorMessage(new Error('store down')), 'store down');
  });

  test('an AggregateError without a message of its own gives its first inner error (happy-eyeballs connect)', () => {
    const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' });
    assert.equal(errorMessage(new AggregateError([refused, new Error('second')])), 'ECONNREFUSED');
    assert.equal(errorMessage(new AggregateError([new Error('first')], 'all failed')), 'all failed');
  });

  test('an Error without a message gives its code, else its name', () => {
    assert.equal(errorMessage(Object.assign(new Error(''), { code: 'EPIPE' })), 'EPIPE');
    assert.equal(errorMessage(new RangeError('')), 'RangeError');
  });

  test('anything else thrown is written out, never "undefined"', () => {
    assert.equal(errorMessage('boom'), 'boom');
    assert.equal(errorMessage({ status: 503 }), '{"status":503}');
    assert.equal(errorMessage(undefined), 'undefined');
    assert.equal(errorMessage(42), '42');
  });
});
