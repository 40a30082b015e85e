// Lifetime (issue 14, findings 2 and 3): process.exit() or an uncaught exception
// in the middle of an encode ends the process cleanly, and encoders dropped
// without close() are collected: their threads stop and their memory returns.
// Each case runs in a child process, as a user's script would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function runChild(
  script: string, args: string[] = [], timeoutMs = 60_000, scriptArgs: string[] = [],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '--import', 'tsx', '--input-type=module', '-e', script, ...scriptArgs], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// Three encoders mid-segment (half-way through a 1 s segment, after the first segments), then `ending`.
const midEncode = (ending: string): string => `
  import { LadderEncoder } from './src/index.ts';
  const options = { width: 640, height: 360, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'veryfast',
    renditions: [{ name: '360p', width: 640, height: 360, bitrate: 800 }, { name: '180p', width: 320, height: 180, bitrate: 300 }] };
  const encoders = [new LadderEncoder(options), new LadderEncoder(options), new LadderEncoder({ ...options, audio: { pcm: { sampleRate: 48000, channels: 2 } } })];
  let segments = 0;
  for (const encoder of encoders) encoder.on('segment', () => segments++);
  const frame = Buffer.alloc(640 * 360 * 3);
  // Until the first segments are out, then on to the middle of a segment.
  for (let i = 0; i < 300 && (segments < 6 || i % 30 !== 15); i++) {
    frame.fill(i * 5);
    await Promise.all(encoders.map(async (encoder) => {
      if (encoder.options.audio) await encoder.writeAudio(new Float32Array(1600 * 2).fill(0.1));
      await encoder.write(frame);
    }));
  }
  if (segments === 0) throw new Error('expected the first segments before ending');
  ${ending}
`;

describe('ending the process in the middle of an encode', () => {
  test('process.exit(0) with 3 encoders mid-segment exits 0 with no signal, 20 times in a row', { timeout: 600_000 }, async () => {
    for (let run = 1; run <= 20; run++) {
      const result = await runChild(midEncode('process.exit(0);'));
      assert.equal(result.signal, null, `run ${run}: killed by ${result.signal}\n${result.stderr}`);
      assert.equal(result.code, 0, `run ${run}: exit code ${result.code}\n${result.stderr}`);
    }
  });

  test('an uncaught exception mid-encode exits 1, printing it, with no signal, 5 times in a row', { timeout: 300_000 }, async () => {
    for (let run = 1; run <= 5; run++) {
      const result = await runChild(midEncode("setTimeout(() => { throw new Error('renderer crashed'); }, 0); await new Promise(() => {});"));
      assert.equal(result.signal, null, `run ${run}: killed by ${result.signal}\n${result.stderr}`);
      assert.equal(result.code, 1, `run ${run}: exit code ${result.code}\n${result.stderr}`);
      assert.match(result.stderr, /renderer crashed/);
    }
  });
});

describe('encoders dropped without close()', () => {
  test('50 dropped encoders are collected: thread count and RSS return to within 10 % of the baseline', { timeout: 300_000 }, async () => {
    const script = `
      import { readFileSync } from 'node:fs';
      import { LadderEncoder } from './src/index.ts';
      const threads = () => Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
      const settle = async () => {
        for (let i = 0; i < 40; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
      };
      const options = { width: 320, height: 180, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'veryfast',
        renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }, { name: '90p', width: 160, height: 90, bitrate: 100 }] };
      const frame = Buffer.alloc(320 * 180 * 3);
      // Warm up: FFmpeg's and x264's one-time allocations, the addon, tsx.
      const warm = new LadderEncoder(options);
      for (let i = 0; i < 10; i++) await warm.write(frame);
      await warm.close();
      await settle();
      const before = { threads: threads(), rss: process.memoryUsage.rss() };
      // In a function of its own, so no frame of this one still holds the last encoder.
      const useAndDrop = async () => {
        const encoder = new LadderEncoder(options);
        for (let i = 0; i < 5; i++) await encoder.write(frame);
        return new WeakRef(encoder);
      };
      const weak = [];
      for (let n = 0; n < 50; n++) weak.push(await useAndDrop());
      const peak = { threads: threads(), rss: process.memoryUsage.rss() };
      for (let round = 0; round < 10 && (weak.some((w) => w.deref()) || threads() > before.threads); round++) await settle();
      const afterDrop = { threads: threads(), rss: process.memoryUsage.rss(), alive: weak.filter((w) => w.deref()).length };
      console.log(JSON.stringify({ before, peak, after: afterDrop }));
    `;
    const result = await runChild(script, ['--expose-gc'], 240_000);
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 0, result.stderr);
    const { before, peak, after } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, { threads: number; rss: number; alive?: number }>;
    assert.ok(peak!.threads > before!.threads + 50, `the 50 encoders ran threads (${before!.threads} -> ${peak!.threads})`);
    assert.equal(after!.alive, 0, 'every dropped encoder was collected');
    assert.ok(after!.threads <= before!.threads * 1.1, `threads back to ${after!.threads} from ${peak!.threads} (baseline ${before!.threads})`);
    assert.ok(after!.rss <= before!.rss * 1.1, `RSS back to ${(after!.rss / 2 ** 20).toFixed(0)} MiB from ${(peak!.rss / 2 ** 20).toFixed(0)} MiB (baseline ${(before!.rss / 2 ** 20).toFixed(0)} MiB)`);
  });
});

// write() keeps a reference to the caller's buffer until the frame is converted (issue 28): every
// path that ends an encoder must let go of every buffer it still holds, or they would leak.
describe('written buffers are let go', () => {
  test('after each write() resolves, and when an encoder is closed, aborted or dropped with frames in flight: every buffer is collected', { timeout: 240_000 }, async () => {
    const script = `
      import { LadderEncoder } from './src/index.ts';
      const settle = async () => {
        for (let i = 0; i < 20; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 25)); }
      };
      const options = { width: 320, height: 180, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
        renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }, { name: '90p', width: 160, height: 90, bitrate: 100 }] };
      const collected = {};
      const registry = new FinalizationRegistry((name) => { collected[name] = (collected[name] ?? 0) + 1; });
      // A fresh buffer per frame (Buffer.alloc: not from Node's pool), registered to be counted when collected.
      const frame = (name, i) => {
        const buffer = Buffer.alloc(320 * 180 * 3, i & 255);
        registry.register(buffer, name);
        return buffer;
      };
      const outcomes = {};
      const count = (name, promises) => Promise.allSettled(promises).then((results) => {
        outcomes[name] = results.map((r) => r.status).reduce((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
      });
      const cases = {
        async awaited() {
          const encoder = new LadderEncoder(options);
          for (let i = 0; i < 40; i++) await encoder.write(frame('awaited', i));
          await encoder.close();
        },
        async closedInFlight() {
          const encoder = new LadderEncoder(options);
          const settled = count('closedInFlight', Array.from({ length: 20 }, (_, i) => encoder.write(frame('closedInFlight', i))));
          await encoder.close();
          await settled;
        },
        async abortedInFlight() {
          const encoder = new LadderEncoder(options);
          const settled = count('abortedInFlight', Array.from({ length: 20 }, (_, i) => encoder.write(frame('abortedInFlight', i))));
          encoder.abort();
          await encoder.close().catch(() => {});
          await settled;
        },
        async droppedInFlight() {
          // Never closed, its writes never awaited: collected once they settle, buffers and all.
          const encoder = new LadderEncoder(options);
          for (let i = 0; i < 20; i++) encoder.write(frame('droppedInFlight', i)).catch(() => {});
          return new WeakRef(encoder);
        },
      };
      let dropped;
      for (const [name, run] of Object.entries(cases)) {
        const result = await run();
        if (result instanceof WeakRef) dropped = result;
      }
      for (let round = 0; round < 20 && (Object.values(collected).reduce((a, b) => a + b, 0) < 100 || dropped.deref()); round++) await settle();
      console.log(JSON.stringify({ collected, outcomes, droppedAlive: dropped.deref() !== undefined }));
    `;
    const result = await runChild(script, ['--expose-gc'], 200_000);
    assert.equal(result.signal, null, result.stderr);
    assert.equal(result.code, 0, result.stderr);
    const { collected, outcomes, droppedAlive } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      collected: Record<string, number>; outcomes: Record<string, Record<string, number>>; droppedAlive: boolean;
    };
    assert.deepEqual(collected, { awaited: 40, closedInFlight: 20, abortedInFlight: 20, droppedInFlight: 20 }, 'every written buffer was collected');
    assert.deepEqual(outcomes.closedInFlight, { fulfilled: 20 }, 'close() converts what was written: every write() resolves');
    assert.equal(outcomes.abortedInFlight!.fulfilled ?? 0, 0, 'abort(): no write() still in flight resolves');
    assert.equal(droppedAlive, false, 'the dropped encoder was collected');
  });

  test('process.exit(0) with writes in flight, their buffers read on the encoders\' threads: exits 0 with no signal, 10 times in a row', { timeout: 300_000 }, async () => {
    const script = `
      import { LadderEncoder } from './src/index.ts';
      const options = { width: 1280, height: 720, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
        renditions: [{ name: '720p', width: 1280, height: 720, bitrate: 2000 }, { name: '360p', width: 640, height: 360, bitrate: 600 }] };
      const encoders = [new LadderEncoder(options), new LadderEncoder(options)];
      await Promise.all(encoders.map((e) => e.ready));
      for (let i = 0; i < 12; i++) for (const encoder of encoders) encoder.write(Buffer.alloc(1280 * 720 * 3, i * 20)).catch(() => {});
      setTimeout(() => process.exit(0), Number(process.argv.at(-1)));
    `;
    for (let run = 1; run <= 10; run++) {
      // Mid-conversion: a few ms after the writes, and at once.
      const result = await runChild(script, [], 60_000, [String(run % 2 === 0 ? 0 : run * 3)]);
      assert.equal(result.signal, null, `run ${run}: killed by ${result.signal}\n${result.stderr}`);
      assert.equal(result.code, 0, `run ${run}: exit code ${result.code}\n${result.stderr}`);
    }
  });

  test('a worker terminated while its encoder takes frames and reports parts, 40 times: the process lives on', { timeout: 120_000 }, async () => {
    // Terminating a worker makes every Node-API call in it fail; a Napi::Error raised then (in
    // write(), or in the event callback libuv runs) once escaped as a C++ exception and aborted
    // the whole process: "terminate called after throwing an instance of 'Napi::Error'".
    // The worker uses the addon directly (no TS loader in an eval worker), as src/native/binding.ts loads it.
    const script = `
      import { Worker } from 'node:worker_threads';
      const root = ${JSON.stringify(repoRoot)};
      for (let i = 0; i < 40; i++) {
        const worker = new Worker(\`
          const { parentPort } = require('node:worker_threads');
          const override = process.env.ABRCAST_NATIVE_PATH;
          const addon = override ? require(override) : require('node-gyp-build')(\${JSON.stringify(root)});
          const config = { width: 320, height: 180, fpsNum: 30, fpsDen: 1, pixelFormat: 'rgb24', framesPerSegment: 30,
            encoder: 'x264', x264Preset: 'veryfast', nvencPreset: 'p4', nvencTune: 'hq', scaleFlags: 'bicubic',
            maxFramesInFlight: 4, outputDir: '', renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }],
            cudaFrames: false, lowLatency: true, partFrames: 6 };
          const native = new addon.NativeLadderEncoder(config, () => {});
          const frame = Buffer.alloc(320 * 180 * 3);
          let id = 0;
          setInterval(() => { try { native.write(frame, id++); } catch {} }, 1);
          parentPort.postMessage('writing');
        \`, { eval: true, execArgv: [] }); // not the parent's --input-type=module
        await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
        await new Promise((resolve) => setTimeout(resolve, 20 + ((i * 37) % 200)));
        await worker.terminate();
      }
      console.log('lived');
    `;
    const result = await runChild(script, [], 110_000);
    assert.equal(result.signal, null, `killed by ${result.signal}\n${result.stderr}`);
    assert.equal(result.code, 0, `exit code ${result.code}\n${result.stderr}`);
    assert.match(result.stdout, /lived/);
  });
});
