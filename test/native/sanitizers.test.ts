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

  test('TsSegmenter and Fmp4Segmenter free their muxer and AVIOContext when the header cannot be written (LeakSanitizer)', { timeout: 180_000 }, () => {
    const binary = join(dir, 'ts-segmenter-leak-check');
    execFileSync('clang++', [
      '-std=c++17', '-g', '-O1', '-fsanitize=address', '-fno-omit-frame-pointer', `-I${join(repoRoot, 'native/src')}`,
      ...['segmenter.cc', 'ts-segmenter.cc', 'fmp4-segmenter.cc', 'fmp4-boxes.cc'].map((file) => join(repoRoot, 'native/src', file)),
      join(repoRoot, 'test/native/ts-segmenter-leak-check.cc'),
      ...pkgConfig('libavformat', 'libavcodec', 'libavutil'), '-o', binary,
    ]);
    const result = spawnSync(binary, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /header failed 6 times, as expected/);
    assert.doesNotMatch(result.stderr, /LeakSanitizer|AddressSanitizer/);
  });

  test('LanczosPlaneScaler: SIMD and portable loops give the same bytes, bands too, each within 0.6 of exact lanczos and closer to swscale\'s accurate lanczos than its default, no read or write outside its contract (ASan, UBSan)', { timeout: 180_000 }, () => {
    const binary = join(dir, 'lanczos-scaler-check');
    execFileSync('clang++', [
      '-std=c++17', '-g', '-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer',
      `-I${join(repoRoot, 'native/src')}`, join(repoRoot, 'native/src/lanczos-plane-scaler.cc'),
      join(repoRoot, 'test/native/lanczos-scaler-check.cc'), ...pkgConfig('libswscale', 'libavutil'), '-o', binary,
    ]);
    const result = spawnSync(binary, { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /Sanitizer|runtime error/);
    const cases = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as {
      size: string; handled: boolean; simd?: boolean; portableDiffers?: number; bandsDiffer?: number; worstOff?: number; samples?: number;
      psnrToSwscaleAccurate?: number; swscaleDefaultToAccurate?: number;
    });
    assert.equal(cases.length, 9);
    for (const c of cases) {
      assert.ok(c.handled, `${c.size} is 2:1 or 3:2 on both axes`);
      if (process.arch === 'x64') assert.equal(c.simd, true, 'this x64 CPU has AVX2');
      assert.equal(c.portableDiffers, 0, `${c.size}: AVX2 and portable loops differ in ${c.portableDiffers} of ${c.samples} samples`);
      assert.equal(c.bandsDiffer, 0, `${c.size}: three bands differ from one in ${c.bandsDiffer} samples`);
      assert.ok(c.worstOff! < 0.6, `${c.size}: ${c.worstOff} from the exact lanczos value`);
      // Closer to swscale's accurate picture than swscale's default lanczos (abrcast's scaler before) is.
      assert.ok(c.psnrToSwscaleAccurate! > 60 && c.psnrToSwscaleAccurate! > c.swscaleDefaultToAccurate!,
        `${c.size}: ${c.psnrToSwscaleAccurate} dB from swscale's lanczos+accurate_rnd (its default lanczos: ${c.swscaleDefaultToAccurate} dB)`);
    }
  });
});
