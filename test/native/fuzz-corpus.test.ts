// The fuzzer's seed corpus (scripts/make-fuzz-corpus.sh: TS, MP4, MKV, MP3, WAV,
// odd sizes, VFR, truncated, zero-length, huge dimensions) and every input a fuzz
// run turned into a regression (test/fixtures/fuzz-regressions/), replayed:
//  - through the file-input path built with clang's ASan and UBSan (the libFuzzer
//    harness, native/fuzz/file-input-fuzzer.cc): any sanitizer report fails;
//  - through `abrcast encode`: no input crashes or hangs the CLI, and one it
//    refuses is named in the error.
// The long run is `npm run fuzz` (scripts/fuzz.sh, 30 minutes), not part of the tests.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { cliEnv, makeTempDir, REPO_ROOT, runCli } from '../cli/cli-process.js';

const corpusDirs = ['test/fixtures/fuzz-corpus', 'test/fixtures/fuzz-regressions'].map((dir) => join(REPO_ROOT, dir));
const inputs = corpusDirs.flatMap((dir) => readdirSync(dir).filter((name) => !name.startsWith('.')).map((name) => join(dir, name)));

function libFuzzerMissing(): string | false {
  if (spawnSync('clang++', ['--version']).status !== 0) return 'clang++ is not installed (apt-get install clang libclang-rt-14-dev)';
  const probe = spawnSync('clang++', ['-fsanitize=fuzzer', '-x', 'c++', '-', '-o', '/dev/null'], {
    input: 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }',
  });
  return probe.status === 0 ? false : "clang's libFuzzer runtime is not installed (apt-get install libclang-rt-14-dev)";
}

describe('fuzz corpus under AddressSanitizer and UndefinedBehaviorSanitizer', { skip: libFuzzerMissing() }, () => {
  test(`${inputs.length} inputs through the file-input path, no sanitizer report`, { timeout: 900_000 }, () => {
    execFileSync('bash', [join(REPO_ROOT, 'scripts/build-fuzzer.sh')], { cwd: REPO_ROOT, stdio: 'pipe' });
    const result = spawnSync(join(REPO_ROOT, 'build-fuzz/file-input-fuzzer'), ['-timeout=120', '-rss_limit_mb=4096', ...inputs], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:allocator_may_return_null=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const report = /(ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: )[^\n]*/.exec(result.stderr)?.[0];
    assert.equal(report, undefined, `${report}\n${result.stderr.slice(-4000)}`);
    assert.equal(result.signal, null);
    assert.equal(result.status, 0, result.stderr.slice(-4000));
    for (const input of inputs) assert.ok(result.stderr.includes(`Executed ${input}`), `ran ${input}`);
  });
});

describe('abrcast encode over the fuzz corpus', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  before(async () => {
    temp = await makeTempDir('abrcast-fuzz-cli-');
  });
  after(() => temp?.remove());

  for (const input of inputs) {
    const name = input.slice(REPO_ROOT.length);
    test(`${name}: encodes, or fails naming the file; never a crash or a hang`, { timeout: 120_000 }, async () => {
      const result = await runCli(
        ['encode', input, '--encoder', 'x264', '--preset', 'ultrafast', '--segment', '1', '--json', '--data-dir', join(temp.path, 'data')],
        cliEnv(temp.path),
        100_000,
      );
      assert.equal(result.signal, null, `killed by ${result.signal} (a crash, or the 100 s limit)\n${result.stderr}`);
      if (result.code !== 0) {
        assert.ok(result.code === 1 || result.code === 2, `exit code ${result.code}\n${result.stderr}`);
        assert.ok(result.stderr.includes(input), `the error names ${input}:\n${result.stderr}`);
      }
    });
  }
});
