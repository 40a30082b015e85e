import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retryUntilDeadline } from '../../src/publish/retry-until-deadline.js';

const backoff = { initialDelayMs: 20, maxDelayMs: 40, factor: 2, jitter: 'none' } as const;

describe('retryUntilDeadline', () => {
  test('retries until the call succeeds, reporting each failure', async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await retryUntilDeadline(
      () => {
        calls += 1;
        if (calls < 4) throw new Error(`down ${calls}`);
        return 'cid';
      },
      { backoff, deadline: () => Number.POSITIVE_INFINITY, onRetry: (attempt) => retries.push(attempt) },
    );
    assert.equal(result, 'cid');
    assert.equal(calls, 4);
    assert.deepEqual(retries, [1, 2, 3]);
  });

  test('an error the caller calls permanent rejects at once', async () => {
    let calls = 0;
    const permanent = new RangeError('bad input');
    await assert.rejects(
      retryUntilDeadline(() => {
        calls += 1;
        throw permanent;
      }, { backoff, deadline: () => Number.POSITIVE_INFINITY, isTransient: (error) => !(error instanceof RangeError) }),
      (error) => error === permanent,
    );
    assert.equal(calls, 1);
  });

  test('a deadline moved while it runs stops it with the last error, never sleeping past it', async () => {
    let deadline = Number.POSITIVE_INFINITY;
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      retryUntilDeadline(() => {
        calls += 1;
        // The owner sets the deadline after the second failure (as close() does): 30 ms from now.
        if (calls === 2) deadline = Date.now() + 30;
        throw new Error(`down ${calls}`);
      }, { backoff, deadline: () => deadline }),
      /down 2/,
    );
    // The second wait (40 ms) would end past the deadline, so it gave up without waiting.
    assert.equal(calls, 2);
    assert.ok(Date.now() - started < 1000);
  });
});
