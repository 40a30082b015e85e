// A thread that will not start (a process, user or cgroup out of threads: EAGAIN) is a clean
// error naming what failed, never std::terminate or a pipeline left half-built in the registry,
// and the process encodes on afterwards (issue 29 item 4, issue 23's smaller faults).
// test/native/fail-thread-start.c, preloaded into a child, fails the Nth thread start made on the
// addon's behalf (its own, FFmpeg's, x264's); N sweeps every start of an encoder's open.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { lastJsonLine, runNodeScript } from '../support/node-script.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const compiler = ['cc', 'gcc', 'clang'].find((name) => spawnSync(name, ['--version']).status === 0);
const skip = process.platform !== 'linux' || !process.report?.getReport || !(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime
  ? 'the LD_PRELOAD shim needs Linux with glibc'
  : compiler ? false : 'no C compiler (cc, gcc or clang)';

// Encoder A (whose open may meet the failure), then B, then C left open at process.exit(0): the
// registry must stop C at exit with A's failure behind it. Markers on stderr say where the shim's
// report fell. A share of 4 threads gives the scaler 3 helpers, so one can fail after others started
// (a joinable std::thread destroyed was std::terminate), and x264 several threads per rendition.
const script = `
  import { LadderEncoder } from './src/index.ts';
  const options = { width: 320, height: 180, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'veryfast', threads: 4,
    audio: { pcm: { sampleRate: 48000, channels: 2 } },
    renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }, { name: '90p', width: 160, height: 90, bitrate: 100 }] };
  const frame = Buffer.alloc(320 * 180 * 3);
  async function encode(name, close = true) {
    try {
      const encoder = await LadderEncoder.open(options);
      for (let i = 0; i < 40; i++) {
        frame.fill(i * 5);
        await encoder.writeAudio(new Float32Array(1600 * 2).fill(0.1));
        await encoder.write(frame);
      }
      return { name, ok: true, frames: close ? (await encoder.close()).frames : 40 };
    } catch (error) {
      return { name, ok: false, error: error.constructor.name, message: error.message };
    } finally {
      process.stderr.write('--- ' + name + ' done\\n');
    }
  }
  const results = [await encode('A'), await encode('B'), await encode('C', false)];
  console.log(JSON.stringify(results));
  process.exit(0);
`;

interface Outcome {
  name: string;
  ok: boolean;
  frames?: number;
  error?: string;
  message?: string;
}

/** A clean refusal: the error the caller gets names what could not start or open, with FFmpeg's reason. */
const cleanFailure =
  /^Cannot (start (the encoder's graph thread|a scaler thread|the encoder thread of rendition \w+|the audio encoder thread)|open x264 encoder for rendition \w+): \S/;

describe('a thread that cannot start', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-thread-start-'));
  const shim = join(dir, 'fail-thread-start.so');
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(() => {
    execFileSync(compiler!, ['-shared', '-fPIC', '-O1', '-o', shim, join(repoRoot, 'test/native/fail-thread-start.c'), '-ldl']);
  });

  test('fails the open it belongs to with a clean error, for every thread an open starts; the process encodes on and exits 0', { timeout: 300_000 }, async () => {
    const failures = new Map<string, number>();
    let n = 1;
    for (; n <= 40; n++) {
      const result = await runNodeScript(script, { env: { LD_PRELOAD: shim, ABRCAST_TEST_FAIL_THREAD: String(n) } });
      const where = `thread start #${n}`;
      assert.equal(result.signal, null, `${where}: killed by ${result.signal}\n${result.stderr}`);
      assert.equal(result.code, 0, `${where}: exit code ${result.code}\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /terminate called|std::system_error|Aborted/, where);
      const [a, b, c] = lastJsonLine<Outcome[]>(result);
      const injected = result.stderr.indexOf(`fail-thread-start: failed thread start #${n} `);
      assert.ok(injected >= 0, `${where}: the shim failed nothing\n${result.stderr}`);
      // Past A's last thread start, the failure falls in B's open: the sweep has covered A's.
      const inA = injected < result.stderr.indexOf('--- A done');
      const failed = inA ? a! : b!;
      assert.equal(failed.ok, false, `${where} did not fail the open it belonged to: ${JSON.stringify([a, b])}`);
      assert.equal(failed.error, 'AbrcastError', where);
      assert.match(failed.message!, cleanFailure, where);
      failures.set(failed.message!, (failures.get(failed.message!) ?? 0) + 1);
      // Every encoder after the failure opens and encodes all its frames.
      for (const later of inA ? [b!, c!] : [c!]) assert.deepEqual([later.ok, later.frames], [true, 40], `${where}: ${JSON.stringify(later)}`);
      if (!inA) break;
    }
    assert.ok(n <= 40, 'an open starts fewer than 40 threads');
    // Each of the addon's own thread starts was met at least once, by name.
    const messages = [...failures.keys()].join('\n');
    for (const what of ["the encoder's graph thread", 'a scaler thread', 'the encoder thread of rendition 180p', 'the encoder thread of rendition 90p', 'the audio encoder thread']) {
      assert.ok(messages.includes(`Cannot start ${what}: Resource temporarily unavailable`), `no failure of ${what} among:\n${messages}`);
    }
    assert.match(messages, /Cannot open x264 encoder for rendition 180p: /);
  });
});
