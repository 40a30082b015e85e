// Opening runs off the JS thread (issue 14, finding 1): an input URL whose
// server accepts the connection and never answers makes open() reject within
// ioTimeout, naming the URL, while timers on the event loop keep firing.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { LadderEncoder } from '../../src/index.js';
import { probeMediaFile } from '../../src/encoder/media-file.js';

let server: Server;
let url: string;
const sockets: Socket[] = [];

before(async () => {
  // Accepts, reads the request, and never says a word.
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  url = `http://127.0.0.1:${address.port}/stalled.ts`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Runs `work` while measuring the event loop: its delay histogram and how often a 10 ms timer fired. */
async function whileMeasuring<T>(work: () => Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; seconds: number; p99Ms: number; maxMs: number; ticks: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const started = performance.now();
  const [outcome] = await Promise.allSettled([work()]);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  histogram.disable();
  return { outcome: outcome!, seconds, p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6, ticks };
}

function rejectedWith(outcome: PromiseSettledResult<unknown>): string {
  assert.equal(outcome.status, 'rejected', 'the open is refused');
  return String((outcome as PromiseRejectedResult).reason?.message);
}

describe('a URL that accepts and never answers', () => {
  test('LadderEncoder.open() rejects within ioTimeout naming the URL; the event loop never blocks', { timeout: 60_000 }, async () => {
    const { outcome, seconds, p99Ms, ticks } = await whileMeasuring(() =>
      LadderEncoder.open({ width: 320, height: 180, fps: 30, input: { file: url }, encoder: 'x264', ioTimeout: 2 }));
    assert.equal(rejectedWith(outcome), `Cannot open input ${url}: no answer within 2 s (ioTimeout)`);
    assert.ok(seconds >= 1.9 && seconds < 15, `rejected after ${seconds.toFixed(2)} s`);
    assert.ok(p99Ms < 50, `event-loop delay p99 ${p99Ms.toFixed(1)} ms`);
    assert.ok(ticks >= (seconds * 1000) / 10 / 4, `a 10 ms timer fired ${ticks} times in ${seconds.toFixed(2)} s`);
  });

  test('probeMediaFile() and fromFile() reject the same way', { timeout: 60_000 }, async () => {
    const probe = await whileMeasuring(() => probeMediaFile(url, { ioTimeout: 1 }));
    assert.equal(rejectedWith(probe.outcome), `Cannot open input ${url}: no answer within 1 s (ioTimeout)`);
    assert.ok(probe.p99Ms < 50, `event-loop delay p99 ${probe.p99Ms.toFixed(1)} ms`);
    const file = await whileMeasuring(() => LadderEncoder.fromFile(url, { ioTimeout: 1, encoder: 'x264' }));
    assert.equal(rejectedWith(file.outcome), `Cannot open input ${url}: no answer within 1 s (ioTimeout)`);
  });

  test('new LadderEncoder returns at once, and abort() ends the open without waiting for the timeout', { timeout: 60_000 }, async () => {
    const started = performance.now();
    const encoder = new LadderEncoder({ width: 320, height: 180, fps: 30, input: { file: url }, encoder: 'x264', ioTimeout: 30 });
    const constructedMs = performance.now() - started;
    assert.ok(constructedMs < 1000, `the constructor took ${constructedMs.toFixed(0)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    encoder.abort('stop waiting');
    const closed = await encoder.close().then(() => 'resolved', (error: Error) => error.message);
    assert.equal(closed, 'stop waiting');
    await assert.rejects(encoder.ready);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 10, `closed after ${seconds.toFixed(2)} s, not after the 30 s ioTimeout`);
  });

  test('frames written while the encoder opens are queued and encoded', { timeout: 60_000 }, async () => {
    const encoder = new LadderEncoder({ width: 160, height: 90, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
      renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }] });
    const frame = Buffer.alloc(160 * 90 * 3);
    const first = encoder.write(frame); // before 'ready'
    await encoder.ready;
    await first;
    for (let i = 1; i < 30; i++) await encoder.write(frame);
    assert.equal((await encoder.close()).frames, 30);
  });
});
