// One thread budget per process (issue 28 item 2, issue 23 item 6): encoders size their threads
// from the CPUs the process may use (affinity, cgroup quota), not from the host's core count, and
// K encoders share one budget instead of each taking all of it. Counted from /proc/self/task in
// child processes pinned with taskset, and in a real cgroup with a CPU quota where one can be made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { getThreadBudget, LadderEncoder, setThreadBudget, type ThreadPlan } from '../../src/index.js';
import { loadNativeAddon } from '../../src/native/binding.js';
import { lastJsonLine, runNodeScript } from '../support/node-script.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tasksetMissing = process.platform !== 'linux'
  ? 'taskset and /proc/self/task are Linux only'
  : spawnSync('taskset', ['--version']).status !== 0 ? 'taskset is not installed (util-linux)' : false;

/** A 3-rung ladder, small enough to open quickly: its 640x360 rung holds 76 % of the pixels. */
const ladder = `{ width: 640, height: 360, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'veryfast',
  renditions: [{ name: '360p', width: 640, height: 360, bitrate: 800 }, { name: '180p', width: 320, height: 180, bitrate: 300 },
    { name: '90p', width: 160, height: 90, bitrate: 100 }] }`;
const renditions = 3;

/** Opens `count` encoders one after another (as a renderer starting K streams would), writes frames to each, and reports. */
const encodersScript = (count: number): string => `
  import { readdirSync } from 'node:fs';
  import { LadderEncoder, getThreadBudget } from './src/index.ts';
  const tasks = () => readdirSync('/proc/self/task').length;
  const options = ${ladder};
  const frame = Buffer.alloc(640 * 360 * 3, 90);
  // Warm up FFmpeg, x264 and libuv's pool, so the count below is the encoders' threads alone.
  const warm = await LadderEncoder.open(options);
  await warm.write(frame);
  await warm.close();
  const before = tasks();
  const encoders = [];
  for (let i = 0; i < ${count}; i++) encoders.push(new LadderEncoder(options));
  await Promise.all(encoders.map((e) => e.ready));
  for (let i = 0; i < 5; i++) await Promise.all(encoders.map((e) => e.write(frame)));
  const during = tasks();
  const live = getThreadBudget().liveEncoders;
  await Promise.all(encoders.map((e) => e.close()));
  const later = new LadderEncoder(options);
  await later.close();
  console.log(JSON.stringify({ before, during, live, plans: encoders.map((e) => e.threadPlan), later: later.threadPlan }));
`;

interface EncodersReport {
  before: number;
  during: number;
  live: number;
  plans: ThreadPlan[];
  later: ThreadPlan;
}

const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0);

describe('threads come from the CPUs this process may use', { skip: tasksetMissing }, () => {
  test('4 encoders under a CPU affinity of 2 share one budget of 2: shares 2, 1, 1, 1, and no more threads than that', { timeout: 120_000 }, async () => {
    const result = await runNodeScript(encodersScript(4), { launcher: ['taskset', '-c', '0,1'] });
    assert.equal(result.code, 0, result.stderr);
    const report = lastJsonLine<EncodersReport>(result);
    for (const plan of report.plans) {
      assert.equal(plan.usableCpus, 2, plan.cpuSource);
      assert.match(plan.cpuSource, /^affinity 2 CPUs/);
      assert.equal(plan.budget, 2);
      assert.equal(plan.budgetSet, false);
    }
    assert.deepEqual(report.plans.map((p) => p.encoders), [1, 2, 3, 4], 'each split the budget among the encoders then live');
    assert.deepEqual(report.plans.map((p) => p.share), [2, 1, 1, 1]);
    // Share 2: the 360p rung has 76 % of the pixels (ceil(1.52) = 2), the others one each; one scaler helper.
    assert.deepEqual(report.plans[0]!.x264Threads, { '360p': 2, '180p': 1, '90p': 1 });
    assert.equal(report.plans[0]!.scalerThreads, 1);
    for (const plan of report.plans.slice(1)) {
      assert.deepEqual(plan.x264Threads, { '360p': 1, '180p': 1, '90p': 1 }, 'at least, and here at most, one x264 thread per rendition');
      assert.equal(plan.scalerThreads, 0);
    }
    assert.equal(report.live, 4);
    // Each encoder's graph thread and one worker per rendition, plus what the budget allows on top
    // (x264's frame and lookahead threads beyond the first, the scaler's helpers). Sized from the
    // host's cores as before, each of the 4 ran 10 threads here.
    const added = report.during - report.before;
    const coordination = 4 * (1 + renditions);
    const planned = report.plans.reduce((total, p) => total + sum(p.x264Threads) - renditions + p.scalerThreads, 0);
    assert.equal(planned, 2);
    assert.ok(added <= coordination + 2 * planned, `4 encoders started ${added} threads (at most ${coordination + 2 * planned} expected)`);
    // Closed encoders give their share back: the next one has the whole budget again.
    assert.equal(report.later.encoders, 1);
    assert.equal(report.later.share, 2);
  });

  test('on one CPU (taskset -c 0) an encoder runs one x264 thread per rendition and no scaler helpers', { timeout: 60_000 }, async () => {
    const result = await runNodeScript(encodersScript(1), { launcher: ['taskset', '-c', '0'], env: { NODE_DEBUG: 'abrcast' } });
    assert.equal(result.code, 0, result.stderr);
    const report = lastJsonLine<EncodersReport>(result);
    const [plan] = report.plans;
    assert.equal(plan!.usableCpus, 1);
    assert.match(plan!.cpuSource, /^affinity 1 CPU\b/);
    assert.deepEqual(plan!.x264Threads, { '360p': 1, '180p': 1, '90p': 1 });
    assert.equal(plan!.scalerThreads, 0);
    // Only the graph thread and a worker per rendition: x264 with one thread starts none of its own.
    // Sized from hardware_concurrency() (2 here) it ran 8.
    const added = report.during - report.before;
    assert.ok(added <= 1 + renditions, `one encoder started ${added} threads on one CPU (at most ${1 + renditions} expected)`);
    // NODE_DEBUG=abrcast shows the plan.
    assert.match(result.stderr, /ABRCAST \d+: encoder 360p\/180p\/90p: thread plan \{"usableCpus":1,/);
  });
});

describe('the budget and the share are options', () => {
  after(() => setThreadBudget('auto'));

  test('setThreadBudget(6) is split among open encoders; an encoder\'s `threads` option sets its own share', async () => {
    setThreadBudget(6);
    const options = { width: 640, height: 360, fps: 30, segmentDuration: 1, encoder: 'x264' as const, x264Preset: 'veryfast',
      renditions: [{ name: '360p', width: 640, height: 360, bitrate: 800 }, { name: '180p', width: 320, height: 180, bitrate: 300 }, { name: '90p', width: 160, height: 90, bitrate: 100 }] };
    const first = new LadderEncoder(options);
    const second = new LadderEncoder(options);
    const own = new LadderEncoder({ ...options, threads: 5 });
    try {
      assert.deepEqual(getThreadBudget().liveEncoders, 3);
      assert.equal(getThreadBudget().threads, 6);
      assert.equal(getThreadBudget().set, true);
      assert.deepEqual([first.threadPlan.budget, first.threadPlan.budgetSet, first.threadPlan.encoders, first.threadPlan.share], [6, true, 1, 6]);
      // 76 %, 19 % and 5 % of the pixels: ceil(4.57), ceil(1.14), ceil(0.29). Bands: min(6, 4, 360 / 16) = 4; helpers: min(6, max(4, 3)) - 1.
      assert.deepEqual(first.threadPlan.x264Threads, { '360p': 5, '180p': 2, '90p': 1 });
      assert.equal(first.threadPlan.scalerThreads, 3);
      assert.deepEqual([second.threadPlan.encoders, second.threadPlan.share], [2, 3]);
      assert.deepEqual(second.threadPlan.x264Threads, { '360p': 3, '180p': 1, '90p': 1 });
      assert.deepEqual([own.threadPlan.encoders, own.threadPlan.share, own.threadPlan.shareSet], [3, 5, true]);
      // They encode with those plans.
      const frame = Buffer.alloc(640 * 360 * 3, 60);
      for (const encoder of [first, second, own]) {
        for (let i = 0; i < 3; i++) await encoder.write(frame);
      }
    } finally {
      await Promise.all([first.close(), second.close(), own.close()]);
    }
    setThreadBudget('auto');
    assert.equal(getThreadBudget().set, false);
    assert.equal(getThreadBudget().threads, getThreadBudget().usableCpus);
    assert.equal(getThreadBudget().liveEncoders, 0);
  });

  test('a bad budget or share is refused, naming the value', () => {
    assert.throws(() => setThreadBudget(0), { name: 'RangeError', message: "Expected integer between 1 and 1024, or 'auto' for threads but received 0" });
    assert.throws(() => setThreadBudget(2.5 as number), RangeError);
    assert.throws(() => setThreadBudget('all' as 'auto'), /for threads but received/);
    assert.throws(() => new LadderEncoder({ width: 160, height: 90, fps: 30, threads: 0 }), { name: 'RangeError', message: 'Expected integer between 1 and 1024 for threads but received 0' });
    // The addon checks for itself too.
    assert.throws(() => loadNativeAddon().setThreadBudget(-1), /Expected integer between 0 and 1024 for setThreadBudget/);
    assert.equal(getThreadBudget().set, false);
  });
});

describe('one budget per process, worker threads included', () => {
  test('an encoder in a worker counts against the main thread\'s; terminating the worker mid-encode closes its pipeline', { skip: process.platform !== 'linux' ? 'counts /proc/self/task' : false, timeout: 60_000 }, async () => {
    const tasks = (): number => readdirSync('/proc/self/task').length;
    const options = { width: 320, height: 180, fps: 30, segmentDuration: 1, encoder: 'x264' as const, renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }] };
    const warm = await LadderEncoder.open(options);
    await warm.close();
    const before = tasks();
    // The worker uses the addon directly (no TS loader in an eval worker), writing frames until it is terminated.
    // The same file as the main thread's (ABRCAST_NATIVE_PATH as in src/native/binding.ts): one budget per loaded addon.
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const override = process.env.ABRCAST_NATIVE_PATH;
      const addon = override ? require(override) : require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const config = { width: 320, height: 180, fpsNum: 30, fpsDen: 1, pixelFormat: 'rgb24', framesPerSegment: 30, encoder: 'x264',
        x264Preset: 'veryfast', nvencPreset: 'p4', nvencTune: 'hq', scaleFlags: 'bicubic', maxFramesInFlight: 4, outputDir: '',
        renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }], cudaFrames: false, lowLatency: false };
      const native = new addon.NativeLadderEncoder(config, () => {});
      const frame = Buffer.alloc(320 * 180 * 3);
      let id = 0;
      setInterval(() => native.write(frame, id++), 5);
      parentPort.postMessage(native.threadPlan());
    `, { eval: true });
    const inWorker = await new Promise<{ encoders: number }>((resolve, reject) => worker.once('message', resolve).once('error', reject));
    const main = new LadderEncoder(options);
    try {
      assert.equal(inWorker.encoders, 1);
      assert.equal(main.threadPlan.encoders, 2, 'the worker\'s encoder shares the budget');
      assert.equal(getThreadBudget().liveEncoders, 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await worker.terminate();
      await main.close();
    }
    // The worker's environment teardown closed its pipeline through the registry: nothing left running.
    assert.equal(getThreadBudget().liveEncoders, 0);
    for (let i = 0; i < 50 && tasks() > before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(tasks() <= before, `threads back to ${tasks()} (before: ${before})`);
  });
});

/** A cgroup directory this process may create with a CPU quota in it, or why not. */
function cpuCgroupRoot(): { dir: string; version: 1 | 2 } | string {
  if (process.platform !== 'linux') return 'cgroups are Linux only';
  if (process.getuid?.() !== 0) return 'making a cgroup needs root';
  for (const dir of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    if (existsSync(join(dir, 'cpu.cfs_quota_us'))) return { dir, version: 1 };
  }
  const controllers = join('/sys/fs/cgroup', 'cgroup.subtree_control');
  if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) return { dir: '/sys/fs/cgroup', version: 2 };
  return 'no cgroup CPU controller to make a quota with (v1 cpu or v2 with cpu in cgroup.subtree_control)';
}

describe('a real cgroup CPU quota', () => {
  const root = cpuCgroupRoot();
  test('an encoder in a cgroup limited to half a CPU plans for 1 CPU, naming the quota', { skip: typeof root === 'string' ? root : false, timeout: 60_000 }, async () => {
    const { dir, version } = root as { dir: string; version: 1 | 2 };
    const cgroup = join(dir, `abrcast-test-${process.pid}`);
    mkdirSync(cgroup);
    try {
      if (version === 1) writeFileSync(join(cgroup, 'cpu.cfs_quota_us'), '50000');
      else writeFileSync(join(cgroup, 'cpu.max'), '50000 100000');
      const script = `
        import { LadderEncoder } from './src/index.ts';
        const encoder = new LadderEncoder(${ladder});
        await encoder.close();
        console.log(JSON.stringify(encoder.threadPlan));
      `;
      // The shell moves itself into the cgroup, then becomes node.
      const node = ['sh', '-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec "$0" "$@"`];
      const result = await runNodeScript(script, { launcher: node });
      assert.equal(result.code, 0, result.stderr);
      const plan = lastJsonLine<ThreadPlan>(result);
      assert.equal(plan.usableCpus, 1);
      assert.match(plan.cpuSource, version === 1 ? /cgroup v1 cpu\.cfs_quota_us 50000 \/ cpu\.cfs_period_us 100000/ : /cgroup v2 cpu\.max 50000 100000/);
      assert.deepEqual(plan.x264Threads, { '360p': 1, '180p': 1, '90p': 1 });
    } finally {
      rmdirSync(cgroup);
    }
  });
});
