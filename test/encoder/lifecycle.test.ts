// Backpressure, memory, failures and process exit: the encoder never grows
// without bound, never crashes the process and never drops an error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LadderEncoder } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('backpressure', () => {
  test('writes that are not awaited are each held until their frame is converted, then resolve in order', async () => {
    const encoder = new LadderEncoder({
      width: 1280, height: 720, fps: 30, segmentDuration: 1, x264Preset: 'veryfast', encoder: 'x264', maxFramesInFlight: 2,
    });
    const frames = new FrameGenerator(1280, 720);
    const order: number[] = [];
    // A buffer each: the encoder keeps it until the frame is converted.
    const writes = Array.from({ length: 12 }, (_, i) => encoder.write(Buffer.from(frames.frame(i))).then(() => void order.push(i)));
    // Microtasks only: a write resolves on the pipeline's 'released' event, which a macrotask brings
    // (and on Node 22 and 24 the first check phase, setImmediate, may come after all 12).
    await Promise.resolve();
    assert.equal(order.length, 0, 'no write() resolves before the pipeline has converted its frame');
    await Promise.all(writes);
    assert.deepEqual(order, Array.from({ length: 12 }, (_, i) => i), 'each write() resolves once its frame is converted, in order');
    assert.equal((await encoder.close()).frames, 12);
  });
});

describe('memory', () => {
  test('a 10-second run keeps RSS flat', { timeout: 120_000 }, async () => {
    const fps = 30;
    const encoder = new LadderEncoder({ width: 1280, height: 720, fps, segmentDuration: 2, x264Preset: 'ultrafast', encoder: 'x264' });
    let segmentBytes = 0;
    encoder.on('segment', (s) => { segmentBytes += s.bytes; });
    const frames = new FrameGenerator(1280, 720);
    let warmRss = 0;
    const samples: number[] = [];
    for (let i = 0; i < 10 * fps; i++) {
      await encoder.write(frames.frame(i));
      if (i === 2 * fps) warmRss = process.memoryUsage.rss();
      if (i > 2 * fps && i % fps === 0) samples.push(process.memoryUsage.rss());
    }
    await encoder.close();
    const growth = Math.max(...samples) - warmRss;
    // A leak of one 720p frame per frame would be ~2.7 MB x 240 frames.
    assert.ok(growth < 48 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB after warm-up`);
    assert.ok(segmentBytes > 0);
  });
});

describe('failures', () => {
  test('a segment that cannot be written fails close() with the path and the caller stack', async () => {
    const outputDir = await mkdtemp(join(tmpdir(), 'abrcast-fail-'));
    const encoder = new LadderEncoder({ width: 320, height: 180, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264', outputDir });
    const errors: Error[] = [];
    encoder.on('error', (error) => errors.push(error));
    await rm(outputDir, { recursive: true, force: true }); // pull the directory from under the encoder
    const frames = new FrameGenerator(320, 180);
    let writeError: unknown;
    try {
      for (let i = 0; i < 40; i++) await encoder.write(frames.frame(i));
    } catch (error) {
      writeError = error; // a write after the failure is refused with the same cause
    }
    await assert.rejects(encoder.close(), (error: Error) => {
      assert.match(error.message, /^Cannot write segment .*original\/segment_00000\.ts: No such file or directory$/);
      assert.match(error.stack ?? '', /lifecycle\.test\.ts/);
      return true;
    });
    assert.equal(errors.length, 1, 'the error event fired once');
    if (writeError) assert.match((writeError as Error).message, /Cannot write segment/);
  });

  test('a process that exits without close() exits cleanly', () => {
    const script = `
      import { LadderEncoder } from './src/index.ts';
      const encoder = new LadderEncoder({ width: 640, height: 360, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast', encoder: 'x264' });
      const frame = Buffer.alloc(640 * 360 * 3, 80);
      for (let i = 0; i < 20; i++) await encoder.write(frame);
      console.log('wrote 20 frames');
      ${'process.exitCode = 0;'}
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot, encoding: 'utf8', timeout: 30_000,
    });
    assert.equal(result.signal, null, `no crash signal; stderr: ${result.stderr}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /wrote 20 frames/);
  });

  test('process.exit() in the middle of encoding does not crash', () => {
    const script = `
      import { LadderEncoder } from './src/index.ts';
      const encoder = new LadderEncoder({ width: 1280, height: 720, fps: 30, segmentDuration: 1, x264Preset: 'veryfast', encoder: 'x264' });
      const frame = Buffer.alloc(1280 * 720 * 3, 80);
      for (let i = 0; i < 8; i++) encoder.write(frame);
      setTimeout(() => process.exit(3), 5);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot, encoding: 'utf8', timeout: 30_000,
    });
    assert.equal(result.signal, null, `no crash signal; stderr: ${result.stderr}`);
    assert.equal(result.status, 3, result.stderr);
  });
});
