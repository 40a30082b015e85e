// Native code under clang's sanitizers: error paths that must free what they
// allocated (LeakSanitizer), and later the fuzzer's regression inputs (ASan/UBSan).
// Skipped, saying why, only when clang is not installed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Why the sanitizer tests cannot run here, or false: clang++ and its ASan runtime must be installed. */
function sanitizersMissing(): string | false {
  if (spawnSync('clang++', ['--version']).status !== 0) return 'clang++ is not installed (apt-get install clang libclang-rt-14-dev)';
  const probe = spawnSync('clang++', ['-fsanitize=address', '-x', 'c++', '-', '-o', '/dev/null'], { input: 'int main() { return 0; }' });
  return probe.status === 0 ? false : "clang's AddressSanitizer runtime is not installed (apt-get install libclang-rt-14-dev)";
}

function pkgConfig(...modules: string[]): string[] {
  return execFileSync('pkg-config', ['--cflags', '--libs', ...modules], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
}

const skip = sanitizersMissing();

describe('native code under sanitizers', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-sanitizers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('TsSegmenter frees its muxer and AVIOContext when the header cannot be written (LeakSanitizer)', { timeout: 180_000 }, () => {
    const binary = join(dir, 'ts-segmenter-leak-check');
    execFileSync('clang++', [
      '-std=c++17', '-g', '-O1', '-fsanitize=address', '-fno-omit-frame-pointer', `-I${join(repoRoot, 'native/src')}`,
      join(repoRoot, 'native/src/ts-segmenter.cc'), join(repoRoot, 'test/native/ts-segmenter-leak-check.cc'),
      ...pkgConfig('libavformat', 'libavcodec', 'libavutil'), '-o', binary,
    ]);
    const result = spawnSync(binary, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /header failed 3 times, as expected/);
    assert.doesNotMatch(result.stderr, /LeakSanitizer|AddressSanitizer/);
  });
});
