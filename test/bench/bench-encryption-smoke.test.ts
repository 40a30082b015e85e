// `npm run bench -- --case encryption --json` end to end, short: both containers, every
// resource of the encoder's output encrypted, the CPU per frame set against the encoder's.
// No speed limits: that every figure is there and adds up.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import type { EncryptionReport } from '../../bench/encryption.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case encryption', () => {
  test('reports encryption CPU per frame and its byte overhead for ts and fmp4', { timeout: 180_000 }, async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-encryption-'));
    try {
      const result = await bench(['--case', 'encryption', '--seconds', '2', '--size', '320x180', '--ladder', '180,90', '--rounds', '2', '--out-dir', outDir, '--json'], 160_000);
      assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as EncryptionReport;
      assert.equal(report.case, 'encryption');
      assert.deepEqual(report.rows.map((row) => row.container), ['ts', 'fmp4']);
      for (const row of report.rows) {
        assert.equal(row.frames, 60);
        assert.equal(row.resources.segments, 2, 'one 2 s segment per rendition');
        assert.ok(row.resources.parts >= 6 * 2, `parts of both renditions (${row.resources.parts})`);
        assert.equal(row.resources.inits, row.container === 'fmp4' ? 2 : 0);
        assert.ok(row.encryptUsPerFrame.min > 0 && row.encryptUsPerFrame.min <= row.encryptUsPerFrame.median);
        assert.ok(row.encodeUsPerFrame > 0 && row.shareOfEncode > 0 && row.shareOfEncode < 1);
        // The leading blocks (a 188-byte packet or a 16-byte box per segment and part) and up to 16 bytes of padding each.
        assert.ok(row.byteOverhead > 0 && row.byteOverhead < 0.05, `byte overhead ${row.byteOverhead}`);
      }
      assert.ok((await readdir(outDir)).some((name) => name.endsWith('-encryption.json')));
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
