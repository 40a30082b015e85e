// SegmentCutter (native/src/segment-cutter.cc), the rules for where segments and parts are cut,
// built on its own with the C++ compiler and checked without x264 or FFmpeg: see
// segment-cutter-check.cc for the packet streams and the cuts they must give.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const compiler = process.env.CXX ?? 'c++';
const skip = spawnSync(compiler, ['--version']).status === 0 ? false : `${compiler} is not installed (it also builds the addon)`;

describe('SegmentCutter', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-segment-cutter-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('cuts segments and parts where the rules say, with and without B-frames, and checks the forced IDRs', { timeout: 120_000 }, () => {
    const binary = join(dir, 'segment-cutter-check');
    execFileSync(compiler, [
      '-std=c++17', '-Wall', '-Wextra', '-Werror', `-I${join(repoRoot, 'native/src')}`,
      ...['segment-cutter.cc', 'codec-string.cc'].map((file) => join(repoRoot, 'native/src', file)),
      join(repoRoot, 'test/native/segment-cutter-check.cc'), '-o', binary,
    ]);
    const result = spawnSync(binary, { encoding: 'utf8' });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /segment cutter: \d+ checks passed/);
  });
});
