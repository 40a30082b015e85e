// `npm run bench -- --case latency`: how far behind the renderer a viewer is, and how soon
// a stream is watchable (issue 16's goals):
//  - glass-to-glass: `abrcast demo --low-latency` per container, watched by an independent
//    hls.js page in Chromium (test/support/hls-latency-probe.ts): median and p95 of now −
//    PROGRAM-DATE-TIME of the frame on screen, and the longest stall after the first 10 s;
//    the same per container with --encrypt (a private run: AES-128, a token in the URL);
//    the same player on a run without --low-latency for comparison;
//  - fast start: launch → first master that answers with variants, median of N launches on a
//    warm machine (one untimed launch first creates the database and fills the caches);
//  - cross-process wake-up: a separate `abrcast serve` woken by PostgreSQL NOTIFY for each part.
//   npm run bench -- --case latency [--seconds 60] [--launches 5] [--size 1280x720] [--preset veryfast]
//                    [--segment 2] [--rounds 100] [--quick] [--out-dir DIR] [--tag T] [--json]
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { invalidParameterError } from '../src/errors.js';
import { measureCrossProcessWakeup, type WakeupReport } from '../test/support/cross-process-wakeup.js';
import { demoEntry, launchDemo } from '../test/support/demo-process.js';
import { measureHlsLatency, percentile, type HlsLatencyReport } from '../test/support/hls-latency-probe.js';
import { launchBrowser } from '../test/support/browser.js';
import { startPostgres } from '../test/support/postgres.js';
import { describeMachine, type MachineInfo } from './machine.js';

export const LATENCY_GOALS = { medianLatencyS: 2.0, maxStallS: 0.5, firstMasterS: 3.0, wakeupP99Ms: 50 } as const;

export interface LatencyBenchOptions {
  quick: boolean;
  /** Seconds each run is watched after the first frame. */
  seconds: number;
  /** Playback seconds left out of the latency and stall figures (the start-up catch-up). */
  warmupS: number;
  launches: number;
  size: string;
  preset: string;
  segment: number;
  rounds: number;
  outDir: string;
  tag?: string;
  json: boolean;
}

export interface WatchedRun {
  container: 'ts' | 'fmp4';
  lowLatency: boolean;
  /** --encrypt: a private run (the clear run of the same container is its baseline). */
  encrypted: boolean;
  /** Launch → first master with variants, seconds. */
  firstMasterS: number;
  /** Launch → first frame on screen (the master, then the probe page's start-up; LL: the first playlist waits for a whole segment plus PART-HOLD-BACK of the next). */
  firstFrameAfterLaunchS: number;
  probe: Omit<HlsLatencyReport, 'samples'> & { sampleCount: number };
  /** Against the goals; null for the run without --low-latency (no goal, comparison only). */
  meetsGoals: { medianLatency: boolean; maxStall: boolean } | null;
}

export interface LatencyReport {
  case: 'latency';
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  options: Omit<LatencyBenchOptions, 'json' | 'outDir'> & { cli: 'dist' | 'src' };
  goals: typeof LATENCY_GOALS;
  runs: WatchedRun[];
  firstMaster: {
    /** The untimed launch that created the database (a first run on a machine). */
    coldS: number;
    launchesS: number[];
    medianS: number;
    meetsGoal: boolean;
  };
  /** skipped: no PostgreSQL here; error: a held request was not answered with its part. */
  wakeup: (WakeupReport & { meetsGoal: boolean }) | { skipped: string } | { error: string };
}

const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function number(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw invalidParameterError(name, `number between ${min} and ${max}`, Number.isNaN(value) ? text : value);
  return value;
}

export function parseLatencyOptions(args: string[]): LatencyBenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false }, seconds: { type: 'string' }, launches: { type: 'string' }, size: { type: 'string' },
      preset: { type: 'string' }, segment: { type: 'string' }, rounds: { type: 'string' }, 'out-dir': { type: 'string' },
      tag: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const seconds = number('--seconds', values.seconds ?? (quick ? '6' : '60'), 1, 86_400);
  if (values.size !== undefined && !/^\d+x\d+$/.test(values.size)) throw invalidParameterError('--size', 'string WxH, e.g. 1280x720', values.size);
  return {
    quick,
    seconds,
    // The goal's "after the first 10 s", shortened for runs too short to have one.
    warmupS: Math.min(10, seconds / 3),
    launches: number('--launches', values.launches ?? (quick ? '2' : '5'), 1, 100),
    size: values.size ?? (quick ? '320x180' : '1280x720'),
    preset: values.preset ?? (quick ? 'ultrafast' : 'veryfast'),
    segment: number('--segment', values.segment ?? (quick ? '1' : '2'), 0.5, 60),
    rounds: number('--rounds', values.rounds ?? (quick ? '10' : '100'), 1, 10_000),
    outDir: resolve(values['out-dir'] ?? DEFAULT_OUT_DIR),
    ...(values.tag !== undefined ? { tag: values.tag } : {}),
    json: values.json,
  };
}

const demoArgs = (options: LatencyBenchOptions, extra: string[]) => [
  '--size', options.size, '--preset', options.preset, '--segment', String(options.segment),
  // A cap only: each run is stopped (SIGINT) once measured.
  '--duration', String(Math.ceil(options.seconds + 300)),
  ...extra,
];

/** The private runs' server secret: the environment's, or a throwaway one for this bench. */
const benchSecretEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ABRCAST_KEY_SECRET: process.env.ABRCAST_KEY_SECRET || randomBytes(32).toString('base64') });

async function watchRun(
  options: LatencyBenchOptions, dir: string, container: 'ts' | 'fmp4', lowLatency: boolean, encrypted: boolean, browser: Awaited<ReturnType<typeof launchBrowser>>,
): Promise<WatchedRun> {
  const label = `${container}${lowLatency ? ' --low-latency' : ''}${encrypted ? ' --encrypt' : ''}`;
  const flags = ['--container', container, ...(lowLatency ? ['--low-latency'] : []), ...(encrypted ? ['--encrypt'] : [])];
  const demo = launchDemo(demoArgs(options, flags), join(dir, `${container}-${lowLatency ? 'll' : 'plain'}${encrypted ? '-encrypted' : ''}`), benchSecretEnv());
  try {
    const start = await demo.started;
    const firstMasterS = (await demo.firstMaster()) - demo.launchedAt;
    log(`latency: ${label}: master after ${(firstMasterS / 1000).toFixed(2)} s; watching ${options.seconds} s`);
    const report = await measureHlsLatency({ url: start.masterUrl, seconds: options.seconds, warmupS: options.warmupS, browser });
    const { samples, ...probe } = report;
    return {
      container,
      lowLatency,
      encrypted,
      firstMasterS: Number((firstMasterS / 1000).toFixed(3)),
      firstFrameAfterLaunchS: Number((firstMasterS / 1000 + report.firstFrameS).toFixed(3)),
      probe: { ...probe, sampleCount: samples.length },
      meetsGoals: lowLatency
        ? { medianLatency: report.medianLatencyS !== null && report.medianLatencyS <= LATENCY_GOALS.medianLatencyS, maxStall: report.maxStallAfterS < LATENCY_GOALS.maxStallS }
        : null,
    };
  } finally {
    const code = await demo.stop();
    if (code !== 0) log(`latency: ${label}: demo exited ${code}: ${demo.stderr().slice(-2000)}`);
  }
}

/** One untimed launch (creates the database), then `launches` timed ones on the same data dir. */
async function measureFirstMaster(options: LatencyBenchOptions, dir: string): Promise<LatencyReport['firstMaster']> {
  const dataDir = join(dir, 'launches');
  const launch = async () => {
    const demo = launchDemo(demoArgs(options, ['--low-latency']), dataDir);
    try {
      return ((await demo.firstMaster()) - demo.launchedAt) / 1000;
    } finally {
      const code = await demo.stop();
      if (code !== 0) throw new Error(`abrcast demo exited ${code}: ${demo.stderr().slice(-2000)}`);
    }
  };
  const coldS = await launch();
  log(`latency: first launch (creates the database): master after ${coldS.toFixed(2)} s`);
  const launchesS: number[] = [];
  for (let i = 0; i < options.launches; i++) {
    launchesS.push(Number((await launch()).toFixed(3)));
    log(`latency: launch ${i + 1}/${options.launches}: master after ${launchesS.at(-1)!.toFixed(2)} s`);
  }
  const medianS = percentile(launchesS, 50)!;
  return { coldS: Number(coldS.toFixed(3)), launchesS, medianS, meetsGoal: medianS <= LATENCY_GOALS.firstMasterS };
}

async function measureWakeup(options: LatencyBenchOptions): Promise<LatencyReport['wakeup']> {
  let postgres: Awaited<ReturnType<typeof startPostgres>>;
  try {
    postgres = await startPostgres();
  } catch (error) {
    return { skipped: `PostgreSQL could not start here: ${(error as Error).message}` };
  }
  try {
    const report = await measureCrossProcessWakeup({ databaseUrl: postgres.url, rounds: options.rounds });
    return { ...report, meetsGoal: report.p99Ms <= LATENCY_GOALS.wakeupP99Ms };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await postgres.stop();
  }
}

export async function benchLatency(options: LatencyBenchOptions): Promise<LatencyReport> {
  const startedAt = new Date();
  const machine = await describeMachine();
  const cli = demoEntry().kind;
  log(`latency: ${options.size} ${options.preset}, ${options.segment} s segments, watched ${options.seconds} s each; CLI from ${cli}; load ${machine.loadAverage.join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-bench-latency-'));
  const browser = await launchBrowser({ width: 640, height: 360 });
  try {
    const runs: WatchedRun[] = [];
    const watched = [['ts', true, false], ['ts', true, true], ['fmp4', true, false], ['fmp4', true, true], ['ts', false, false]] as const;
    for (const [container, lowLatency, encrypted] of watched) runs.push(await watchRun(options, dir, container, lowLatency, encrypted, browser));
    const firstMaster = await measureFirstMaster(options, dir);
    const wakeup = await measureWakeup(options);
    const { json: _json, outDir: _outDir, ...settings } = options;
    return {
      case: 'latency',
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      options: { ...settings, cli },
      goals: LATENCY_GOALS,
      runs,
      firstMaster,
      wakeup,
    };
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const seconds = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} s`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' (goal met)' : ' (goal missed)');

export function formatLatencyReport(report: LatencyReport): string {
  const { goals } = report;
  const header = ['run', 'median', 'p95', `max stall after ${report.options.warmupS.toFixed(0)} s`, 'stalls', 'first master', 'first frame', 'parts / blocking reloads', 'fatal errors'];
  const rows = report.runs.map((run) => [
    `${run.container}${run.lowLatency ? ' LL' : ' plain'}${run.encrypted ? ' encrypted' : ''}`,
    seconds(run.probe.medianLatencyS) + verdict(run.meetsGoals?.medianLatency),
    seconds(run.probe.p95LatencyS),
    seconds(run.probe.maxStallAfterS) + verdict(run.meetsGoals?.maxStall),
    String(run.probe.stalls.length),
    seconds(run.firstMasterS),
    seconds(run.firstFrameAfterLaunchS),
    `${run.probe.requests.parts} / ${run.probe.requests.blockingReloads}`,
    run.probe.fatalErrors.length === 0 ? 'none' : run.probe.fatalErrors.map((e) => e.split('\n')[0]).join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const table = [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
  const { firstMaster, wakeup } = report;
  // Each encrypted LL run against the clear LL run of its container, measured in the same bench.
  const encryptionCost = report.runs.filter((run) => run.encrypted).map((run) => {
    const clear = report.runs.find((other) => !other.encrypted && other.lowLatency === run.lowLatency && other.container === run.container);
    const delta = clear && run.probe.medianLatencyS !== null && clear.probe.medianLatencyS !== null ? run.probe.medianLatencyS - clear.probe.medianLatencyS : null;
    return `${run.container}: ${delta === null ? '–' : `${delta >= 0 ? '+' : ''}${delta.toFixed(2)} s`}`;
  });
  return [
    `Latency to the renderer (now − PROGRAM-DATE-TIME of the frame on screen), goals: median ≤ ${goals.medianLatencyS} s, no stall ≥ ${goals.maxStallS} s after ${report.options.warmupS.toFixed(0)} s`,
    table,
    ...(encryptionCost.length > 0 ? [`Encrypted LL against clear LL, median latency: ${encryptionCost.join(', ')}`] : []),
    `First master after launch: median ${firstMaster.medianS.toFixed(2)} s of ${firstMaster.launchesS.length} (${firstMaster.launchesS.map((s) => s.toFixed(2)).join(', ')})` +
      `${verdict(firstMaster.meetsGoal)}, goal ≤ ${goals.firstMasterS} s; first launch, creating the database: ${firstMaster.coldS.toFixed(2)} s`,
    'skipped' in wakeup
      ? `Cross-process wake-up: skipped (${wakeup.skipped})`
      : 'error' in wakeup
        ? `Cross-process wake-up: FAILED: ${wakeup.error}`
        : `Cross-process wake-up (recordPart with PostgreSQL NOTIFY → a separate abrcast serve answers), ${wakeup.rounds} parts: p50 ${wakeup.p50Ms} ms, p99 ${wakeup.p99Ms} ms, max ${wakeup.maxMs} ms${verdict(wakeup.meetsGoal)}, goal p99 ≤ ${goals.wakeupP99Ms} ms`,
  ].join('\n');
}

async function writeReport(report: LatencyReport, options: LatencyBenchOptions): Promise<string> {
  await mkdir(options.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = [report.date, host, 'latency', ...(options.quick ? ['quick'] : []), ...(options.tag ? [options.tag] : [])].join('-');
  const path = join(options.outDir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

export async function latencyMain(args: string[]): Promise<void> {
  const options = parseLatencyOptions(args);
  const report = await benchLatency(options);
  const path = await writeReport(report, options);
  const text = formatLatencyReport(report);
  if (options.json) {
    log(`\n${text}\nwrote ${path}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${text}\n\nwrote ${path}\n`);
  }
}
