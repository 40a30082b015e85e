#!/usr/bin/env node
// Footprint figures for the docs, each in a fresh process (`npm run build` first):
//   node scripts/measure-import.mjs [runs]              time and RSS of `import('abrcast')`
//   node scripts/measure-import.mjs [runs] --registry   also openRegistry() on a new and on an existing PGlite dir:
//                                                       wall and CPU time of the open, RSS before it, after it, and the peak
//   node scripts/measure-import.mjs [runs] --encode     also `abrcast encode` of a 160x90 4 s clip on a new data dir: peak RSS
//   node scripts/measure-import.mjs [runs] --workload   also a registry workload on a new PGlite dir: 600 recordSegment,
//                                                       600 reads, 20 lists of 300 segments (ms per call), RSS after it
//   node flags given to this script (e.g. --liftoff-only) are passed to every measured process
//   --root=<checkout>                                   measures another built checkout (a before/after pair)
// One JSON line per run and case.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const root = args.find((a) => a.startsWith('--root='))?.slice('--root='.length) ?? fileURLToPath(new URL('..', import.meta.url));
const entry = pathToFileURL(join(root, 'dist/index.js')).href;
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const MB = 1048576;

const importChild = `
  const t0 = performance.now();
  const m = await import(${JSON.stringify(entry)});
  const ms = performance.now() - t0;
  if (typeof m.LadderEncoder !== 'function') throw new Error('no LadderEncoder');
  console.log(JSON.stringify({ case: 'import', importMs: Math.round(ms), rssMB: +(process.memoryUsage().rss / ${MB}).toFixed(1) }));
`;

const registryChild = (dataDir, label) => `
  const { openRegistry } = await import(${JSON.stringify(entry)});
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const registry = await openRegistry({ databaseUrl: '', dataDir: ${JSON.stringify(dataDir)} });
  const openMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const after = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  await registry.close();
  console.log(JSON.stringify({
    case: ${JSON.stringify(label)}, openMs: Math.round(openMs), cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssBeforeMB: Math.round(before / ${MB}), rssMB: Math.round(after / ${MB}), peakMB: Math.round(peak / ${MB}),
  }));
`;

const workloadChild = (dataDir) => `
  const { openRegistry } = await import(${JSON.stringify(entry)});
  const registry = await openRegistry({ databaseUrl: '', dataDir: ${JSON.stringify(dataDir)} });
  const run = await registry.createRun({ width: 1280, height: 720, fps: 30, segmentDuration: 2 });
  const cid = 'bafkreigzxsr5in6ehnd7wwdamaxan4xetw7qtr32mavbes6ny6kzuh6via';
  let t = performance.now();
  for (let i = 0; i < 300; i++) for (const rendition of ['720p', '360p']) await registry.recordSegment(run.id, { rendition, index: i, cid, duration: 2, bytes: 1000 });
  const recordMs = (performance.now() - t) / 600;
  t = performance.now();
  for (let i = 0; i < 300; i++) { await registry.getQualityState(run.id, '720p'); await registry.getRun(run.id); }
  const readMs = (performance.now() - t) / 600;
  t = performance.now();
  for (let i = 0; i < 20; i++) await registry.listSegments(run.id, '720p');
  const listMs = (performance.now() - t) / 20;
  const rss = process.memoryUsage().rss;
  await registry.close();
  console.log(JSON.stringify({
    case: 'registry-workload', recordMs: +recordMs.toFixed(2), readMs: +readMs.toFixed(2), list300Ms: +listMs.toFixed(2),
    rssMB: Math.round(rss / ${MB}), peakMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
`;

function node(script) {
  const result = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  process.stdout.write(result.stdout);
}

/** Peak RSS (VmHWM) of `abrcast encode` on a new data dir, read from /proc until the process ends. */
async function encodePeak(clip, dataDir) {
  const started = performance.now();
  const child = spawn(process.execPath, [...process.execArgv, join(root, 'bin/abrcast.js'), 'encode', clip, '--data-dir', dataDir, '-q'], {
    cwd: root,
    env: { ...process.env, HOME: dataDir, DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peak = 0;
  const read = () => {
    try {
      peak = Math.max(peak, Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024);
    } catch {
      // gone
    }
  };
  const poll = setInterval(read, 10);
  const code = await new Promise((resolve) => child.once('exit', (c) => (read(), resolve(c))));
  clearInterval(poll);
  if (code !== 0) throw new Error(`abrcast encode exited ${code}`);
  console.log(JSON.stringify({ case: 'encode-new', wallMs: Math.round(performance.now() - started), peakMB: Math.round(peak / MB) }));
}

const scratch = mkdtempSync(join(tmpdir(), 'abrcast-measure-'));
try {
  for (let i = 0; i < runs; i++) node(importChild);
  if (args.includes('--registry')) {
    for (let i = 0; i < runs; i++) {
      const dataDir = join(scratch, `db-${i}`);
      node(registryChild(dataDir, 'registry-new'));
      node(registryChild(dataDir, 'registry-reopen'));
    }
  }
  if (args.includes('--workload')) {
    for (let i = 0; i < runs; i++) node(workloadChild(join(scratch, `workload-${i}`)));
  }
  if (args.includes('--encode')) {
    const clip = join(scratch, 'clip160.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30', '-t', '4', '-c:v', 'libx264',
      '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip]);
    for (let i = 0; i < runs; i++) await encodePeak(clip, join(scratch, `encode-${i}`));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
