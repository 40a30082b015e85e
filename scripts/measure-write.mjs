#!/usr/bin/env node
// What write() costs the JS thread (issue 28): one LadderEncoder, rgb24 frames from a ring of 8
// made before timing, each write() awaited as a renderer would (`npm run build` first).
//   node scripts/measure-write.mjs [frames] [--size=1920x1080] [--ladder=1080,720,360] [--preset=ultrafast]
//   --root=<checkout>   measures another built checkout (its dist/), for a before/after pair
//   --render=<ms>       the JS thread is also busy this long per frame (a renderer drawing), so the
//                       wall time shows whether the encoder keeps up beside it
// Prints one JSON line: the time spent inside write() before it returns (its synchronous part:
// median, p99, mean, ms), the JS thread's CPU time per frame (/proc/self/task/<pid>/schedstat: what
// it ran, however loaded the machine; the rendering excluded), the event loop's active time per frame
// (performance.eventLoopUtilization(), wall time: inflated when the machine is loaded and the thread
// waits for a CPU), the process's CPU per frame (all threads), wall.
// Load-independent counts: run it under `valgrind --tool=callgrind --separate-threads=yes` (see
// docs/performance.md), where thread 1 is the JS thread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const root = option('root', fileURLToPath(new URL('..', import.meta.url)));
const frames = Number(args.find((a) => /^\d+$/.test(a)) ?? 240);
const [width, height] = option('size', '1920x1080').split('x').map(Number);
const heights = option('ladder', '1080,720,360').split(',').map(Number);
const preset = option('preset', 'ultrafast');
const renderMs = Number(option('render', '0'));

const { LadderEncoder, ladderFromHeights } = await import(pathToFileURL(join(root, 'dist/index.js')).href);

// 8 frames: a gradient under a moving pattern and some noise, so scaling and x264 have work to do.
let seed = 0x9e3779b9;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) >>> 24);
const ring = Array.from({ length: 8 }, (_, f) => {
  const frame = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const pattern = ((x + 8 * f) >> 4) ^ (y >> 4);
      frame[o] = (x * 255) / width;
      frame[o + 1] = (pattern & 1 ? 200 : 40) + (random() & 15);
      frame[o + 2] = (y * 255) / height;
    }
  }
  return frame;
});

const encoder = new LadderEncoder({
  width, height, fps: 30, pixelFormat: 'rgb24', segmentDuration: 2, encoder: 'x264', x264Preset: preset,
  renditions: ladderFromHeights(width, height, heights),
});
await encoder.ready;
const busy = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

// CPU time the JS thread (the process's main thread) has run, ms.
const jsThreadCpuMs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

const sync = [];
let rendering = 0; // wall ms the rendering took (for the event loop's active time)
let renderingCpu = 0; // CPU ms it ran (for the JS thread's CPU)
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
const js0 = jsThreadCpuMs();
const t0 = performance.now();
for (let i = 0; i < frames; i++) {
  if (renderMs > 0) {
    const r0 = performance.now();
    const c0 = jsThreadCpuMs();
    busy(renderMs);
    renderingCpu += jsThreadCpuMs() - c0;
    rendering += performance.now() - r0;
  }
  const w0 = performance.now();
  const written = encoder.write(ring[i % ring.length]);
  sync.push(performance.now() - w0);
  await written;
}
await encoder.close();
const wallMs = performance.now() - t0;
const elu = performance.eventLoopUtilization(elu0);
const jsCpu = jsThreadCpuMs() - js0;
const cpu = process.cpuUsage(cpu0);

sync.sort((a, b) => a - b);
const at = (p) => sync[Math.min(sync.length - 1, Math.floor((p / 100) * sync.length))];
const round = (v, digits = 3) => Number(v.toFixed(digits));
console.log(JSON.stringify({
  root, frames, size: `${width}x${height}`, ladder: heights.join(','), preset, renderMs,
  writeSyncMs: { median: round(at(50)), p99: round(at(99)), mean: round(sync.reduce((a, b) => a + b, 0) / frames) },
  jsThreadCpuMsPerFrame: round((jsCpu - renderingCpu) / frames),
  eventLoopActiveMsPerFrame: round((elu.active - rendering) / frames),
  cpuMsPerFrame: round((cpu.user + cpu.system) / 1000 / frames, 2),
  wallMsPerFrame: round(wallMs / frames, 2),
}));
