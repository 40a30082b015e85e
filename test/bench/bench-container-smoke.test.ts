// `npm run bench -- --case container --json` end to end, short: TS and fMP4, with and without
// parts, over the same frames. No size limits: that every row is there, adds up, and that the
// same encode costs the containers different bytes (their overhead), which is what it reports.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { bench } from './bench-process.js';

interface Row { container: string; partDuration?: number; seconds: number; bytesPerSecond: Record<string, number>; totalBytesPerSecond: number; relativeToTs: number }

describe('npm run bench -- --case container', () => {
  test('reports bytes per second for ts and fmp4, with and without parts', { timeout: 120_000 }, async () => {
    const result = await bench(['--case', 'container', '--seconds', '2', '--size', '320x180', '--json'], 100_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    const { rows } = JSON.parse(result.stdout) as { rows: Row[] };
    assert.deepEqual(rows.map((r) => [r.container, r.partDuration !== undefined]), [['ts', false], ['fmp4', false], ['ts', true], ['fmp4', true]]);
    for (const row of rows) {
      assert.equal(row.seconds, 2);
      assert.deepEqual(Object.keys(row.bytesPerSecond), ['180p', '90p']);
      const sum = Object.values(row.bytesPerSecond).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - row.totalBytesPerSecond) <= 2, `${row.container}: renditions add up`);
      assert.ok(row.totalBytesPerSecond > 16_000, `${row.container}: at least the AAC's bytes`);
    }
    assert.equal(rows[0]!.relativeToTs, 1);
    assert.notEqual(rows[1]!.totalBytesPerSecond, rows[0]!.totalBytesPerSecond, 'the containers cost different bytes');
  });
});
