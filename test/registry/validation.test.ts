import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateRunId,
  isValidQualityName,
  isValidRunId,
  QUALITY_NAME_PATTERN,
  RUN_ID_PATTERN,
} from '../../src/registry/index.js';

test('run ids: lowercase, URL-safe, start with a letter or digit, at most 64 characters', () => {
  for (const id of ['r3k2j5h7g6f4d', 'demo', 'a', '0run', 'my-run_2', 'a'.repeat(64)]) {
    assert.ok(isValidRunId(id), id);
  }
  for (const id of ['', 'Demo', '-lead', '_lead', 'a/b', '..', 'a.b', 'a b', "x' OR '1'='1", 'a'.repeat(65), 'run\n', 'é']) {
    assert.equal(isValidRunId(id), false, JSON.stringify(id));
  }
  assert.equal(isValidRunId(42), false);
  assert.equal(isValidRunId(undefined), false);
  assert.equal(RUN_ID_PATTERN.source, '^[a-z0-9][a-z0-9_-]{0,63}$');
});

test('quality names: 1 to 32 of [a-z0-9_-]', () => {
  assert.equal(QUALITY_NAME_PATTERN.source, '^[a-z0-9_-]{1,32}$');
  for (const name of ['720p', '1080p', 'hi_1', 'low-2', '-', 'x'.repeat(32)]) assert.ok(isValidQualityName(name), name);
  for (const name of ['', '720P', '../720p', '720p.m3u8', 'x'.repeat(33), '720p\n', null]) {
    assert.equal(isValidQualityName(name), false, JSON.stringify(name));
  }
});

test('generated run ids are valid, distinct and use the base32 alphabet', () => {
  const ids = new Set(Array.from({ length: 2000 }, () => generateRunId()));
  assert.equal(ids.size, 2000);
  const seen = new Set<string>();
  for (const id of ids) {
    assert.match(id, /^r[a-z2-7]{12}$/);
    assert.ok(isValidRunId(id));
    for (const ch of id.slice(1)) seen.add(ch);
  }
  // 24,000 random characters cover all 32 symbols; a biased or truncated alphabet would not.
  assert.equal(seen.size, 32);
});
