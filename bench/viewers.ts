// `npm run bench -- --case viewers`: how many LL-HLS viewers one `abrcast serve`
// process keeps at the live edge (issue 23's goals), and whether hostile held
// requests hurt a real player.
//  - Viewers: PostgreSQL, Kubo, one `abrcast serve` on both, and a paced producer in
//    a process of its own (bench/ll-part-producer.ts: 2 renditions, parts of 1/3 s,
//    2-s segments, a publish per segment). For each K, K simulated viewers
//    (bench/ll-viewer-load.ts: one keep-alive connection each, a blocking reload
//    outstanding as hls.js has, then the newest part) watch the first rendition.
//    Per K: p50/p95/p99 of the delay from a part's recordPart call to the first
//    viewer's answer listing it, and from there to every other viewer's; errors;
//    the serve process's CPU (and per 1,000 viewers) and RSS; PostgreSQL
//    transactions per playlist answer.
//  - Hostile: `abrcast demo --low-latency` (one process encodes, publishes and
//    serves) watched by hls.js in Chromium, first alone, then while N clients
//    hold blocking reloads one segment ahead: latency and the longest stall, both.
//   npm run bench -- --case viewers [--viewers 250,500,1000,2000] [--seconds 20] [--part-bytes 8000]
//                    [--hostile 2000] [--probe-seconds 30] [--load-threads 2] [--quick] [--out-dir DIR] [--tag T] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { invalidParameterError } from '../src/errors.js';
import { openPostgresClient } from '../src/registry/postgres-client.js';
import { launchBrowser } from '../test/support/browser.js';
import { demoEntry, launchDemo } from '../test/support/demo-process.js';
import { measureHlsLatency, percentile, type HlsLatencyReport } from '../test/support/hls-latency-probe.js';
import { startKubo } from '../test/support/kubo.js';
import { startPostgres } from '../test/support/postgres.js';
import { HostileLoad, type LoadCounters } from './ll-viewer-load.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { log } from './log.js';
import { integer } from './options.js';
import { ViewerLoadPool } from './viewer-load-pool.js';

export const VIEWER_GOALS = { viewers: 1000, firstAnswerP95Ms: 250, spreadP95Ms: 250, errorRate: 0.001 } as const;

const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS = 100;
const RENDITIONS = ['720p', '360p'];
const SEGMENT_S = 2;
const PARTS_PER_SEGMENT = 6;
const FPS = 30;

export interface ViewersOptions {
  quick: boolean;
  viewers: number[];
  /** Seconds each K is measured (after its viewers started and a warm-up). */
  seconds: number;
  partBytes: number;
  /** Hostile held requests while hls.js watches; 0 skips that phase. */
  hostile: number;
  /** Seconds hls.js watches, alone and then under the hostile load. */
  probeSeconds: number;
  /** Worker threads the simulated viewers are spread over (bench/viewer-load-pool.ts). */
  loadThreads: number;
  outDir: string;
  tag?: string;
  json: boolean;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  count: number;
}

export interface ViewerStep {
  viewers: number;
  seconds: number;
  requests: { playlists: number; parts: number; perSecond: number };
  errors: number;
  errorRate: number;
  errorKinds: Record<string, number>;
  /** Parts recorded in the window (the first rendition's) that the delays are taken over. */
  partsMeasured: number;
  /** recordPart call → the first viewer's answer listing the part, ms (one value per part). */
  firstAnswerMs: Percentiles;
  /** The first viewer's answer → each other viewer's, ms (one value per viewer and part). */
  spreadMs: Percentiles;
  /** (viewer, part) pairs of the window no answer listed by its end. */
  missingAnswers: number;
  serve: { cpuSeconds: number; cpuCores: number; cpuCoresPer1000Viewers: number; rssMiB: number };
  loadGeneratorCpuSeconds: number;
  /** null: the bench's own statistics query failed (a saturated machine: its connection timed out). */
  postgres: { transactions: number | null; perPlaylistAnswer: number | null };
  meetsGoals: { firstAnswerP95: boolean; spreadP95: boolean; errorRate: boolean };
}

export type ProbeSummary = Pick<HlsLatencyReport, 'medianLatencyS' | 'p95LatencyS' | 'maxStallAfterS' | 'playedS' | 'fatalErrors' | 'requests'> & { stalls: number };

export interface HostilePhase {
  hostile: number;
  alone: ProbeSummary;
  underLoad: ProbeSummary;
  /** abrcast_held_requests of the demo's server while the second probe watched (sampled at its end). */
  heldAtEnd: number;
  hostileAnswers: number;
  hostileErrors: Record<string, number>;
}

export interface ViewersReport {
  case: 'viewers';
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  options: Omit<ViewersOptions, 'json' | 'outDir'> & { cli: 'dist' | 'src' };
  goals: typeof VIEWER_GOALS;
  producerFailures: string[];
  steps: ViewerStep[];
  hostile: HostilePhase | { skipped: string } | { error: string };
}



export function parseViewersOptions(args: string[]): ViewersOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false }, viewers: { type: 'string' }, seconds: { type: 'string' }, 'part-bytes': { type: 'string' },
      hostile: { type: 'string' }, 'probe-seconds': { type: 'string' }, 'load-threads': { type: 'string' }, 'out-dir': { type: 'string' }, tag: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const list = values.viewers ?? (quick ? '10,40' : '250,500,1000,2000');
  if (!/^\d+(,\d+)*$/.test(list)) throw invalidParameterError('--viewers', 'comma-separated integers, e.g. 250,500,1000', list);
  if (values.tag !== undefined && !/^[A-Za-z0-9._-]{1,40}$/.test(values.tag)) throw invalidParameterError('--tag', 'string of 1 to 40 characters [A-Za-z0-9._-]', values.tag);
  return {
    quick,
    viewers: list.split(',').map((k) => integer('--viewers', k, 1, 20_000)),
    seconds: integer('--seconds', values.seconds ?? (quick ? '4' : '20'), 1, 3600),
    partBytes: integer('--part-bytes', values['part-bytes'] ?? (quick ? '2000' : '8000'), 100, 4_000_000),
    hostile: integer('--hostile', values.hostile ?? (quick ? '100' : '2000'), 0, 20_000),
    probeSeconds: integer('--probe-seconds', values['probe-seconds'] ?? (quick ? '8' : '30'), 4, 3600),
    loadThreads: integer('--load-threads', values['load-threads'] ?? '2', 1, 64),
    outDir: resolve(values['out-dir'] ?? DEFAULT_OUT_DIR),
    ...(values.tag !== undefined ? { tag: values.tag } : {}),
    json: values.json,
  };
}

/** utime + stime of one process, seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kib ? Math.round(Number(kib) / 1024) : 0;
}

function percentiles(values: number[]): Percentiles {
  const round = (value: number | null) => (value === null ? null : Number(value.toFixed(1)));
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    // Not Math.max(...values): 2,000 viewers give more values than the call stack holds.
    max: values.length > 0 ? round(values.reduce((a, b) => Math.max(a, b))) : null,
    count: values.length,
  };
}

/** `abrcast serve` as a child; resolves with its URL once it listens. */
async function startServe(args: string[], dataDir: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const entry = demoEntry();
  const child = spawn(process.execPath, [...entry.args, 'serve', '--port', '0', '--json', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const url = await new Promise<string>((resolvePromise, reject) => {
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const match = /"event":"start".*?"serverUrl":"([^"]+)"/.exec(stdout);
      if (match) resolvePromise(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`abrcast serve exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

const errorCount = (counters: LoadCounters) => [...counters.errors.values()].reduce((a, b) => a + b, 0);

/** Milliseconds since the epoch, comparable with the producer process's clock. */
const now = () => performance.timeOrigin + performance.now();

async function measureStep(options: ViewersOptions, k: number, playlistUrl: string, recordedAt: Map<string, number>, servePid: number, transactions: () => Promise<number | null>): Promise<ViewerStep> {
  const load = new ViewerLoadPool(
    { playlistUrl, viewers: k, partsPerSegment: PARTS_PER_SEGMENT, rampMs: Math.min(3000, k * 2), timeoutMs: 3 * SEGMENT_S * 1000 + 5000 },
    options.loadThreads,
  );
  load.start();
  // Started, and a few parts at the edge for all of them, before the window opens.
  await new Promise((r) => setTimeout(r, Math.min(3000, k * 2) + 2000));
  const countersBefore = await load.counters();
  const before = { serve: cpuSeconds(servePid), own: process.cpuUsage(), xacts: await transactions(), playlists: countersBefore.playlists, parts: countersBefore.parts };
  const errorsBefore = errorCount(countersBefore);
  const windowStart = now();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, rssMiB(servePid))), 500);
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  const windowEnd = now();
  clearInterval(sampler);
  rss = Math.max(rss, rssMiB(servePid));
  const serveCpu = cpuSeconds(servePid) - before.serve;
  const own = process.cpuUsage(before.own);
  const after = await transactions();
  const xacts = after === null || before.xacts === null ? null : after - before.xacts;
  // Answers for the window's last parts may still be on their way.
  await new Promise((r) => setTimeout(r, 1500));
  const { counters, arrivals: arrivalLog } = await load.stop();
  const playlists = counters.playlists - before.playlists;
  const parts = counters.parts - before.parts;
  const errorKinds = Object.fromEntries(counters.errors);
  const errors = errorCount(counters) - errorsBefore;

  const first: number[] = [];
  const spread: number[] = [];
  let measured = 0;
  let missing = 0;
  for (const [key, at] of recordedAt) {
    if (at < windowStart || at > windowEnd - 1000) continue;
    measured += 1;
    const arrivals = arrivalLog.get(key) ?? [];
    missing += Math.max(0, k - arrivals.length);
    if (arrivals.length === 0) continue;
    const earliest = arrivals.reduce((a, b) => Math.min(a, b));
    first.push(earliest - at);
    for (const at of arrivals) if (at !== earliest) spread.push(at - earliest);
  }
  const seconds = (windowEnd - windowStart) / 1000;
  const requests = playlists + parts;
  const step: ViewerStep = {
    viewers: k,
    seconds: Number(seconds.toFixed(2)),
    requests: { playlists, parts, perSecond: Math.round(requests / seconds) },
    errors,
    errorRate: requests + errors > 0 ? Number((errors / (requests + errors)).toFixed(5)) : 0,
    errorKinds,
    partsMeasured: measured,
    firstAnswerMs: percentiles(first),
    spreadMs: percentiles(spread),
    missingAnswers: missing,
    serve: {
      cpuSeconds: Number(serveCpu.toFixed(2)),
      cpuCores: Number((serveCpu / seconds).toFixed(3)),
      cpuCoresPer1000Viewers: Number(((serveCpu / seconds) * (1000 / k)).toFixed(3)),
      rssMiB: rss,
    },
    loadGeneratorCpuSeconds: Number(((own.user + own.system) / 1e6).toFixed(2)),
    postgres: { transactions: xacts, perPlaylistAnswer: xacts === null ? null : playlists > 0 ? Number((xacts / playlists).toFixed(4)) : 0 },
    meetsGoals: { firstAnswerP95: false, spreadP95: false, errorRate: false },
  };
  step.meetsGoals = {
    firstAnswerP95: step.firstAnswerMs.p95 !== null && step.firstAnswerMs.p95 <= VIEWER_GOALS.firstAnswerP95Ms,
    spreadP95: step.spreadMs.p95 === null || step.spreadMs.p95 <= VIEWER_GOALS.spreadP95Ms,
    errorRate: step.errorRate <= VIEWER_GOALS.errorRate,
  };
  return step;
}

/** The paced producer (bench/ll-part-producer.ts) as a process of its own: its run id, and each part's recording time as it comes. */
async function startProducer(databaseUrl: string, kuboUrl: string, options: ViewersOptions) {
  const script = fileURLToPath(new URL('ll-part-producer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, databaseUrl, kuboUrl, String(options.partBytes), String(SEGMENT_S), String(PARTS_PER_SEGMENT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recordedAt = new Map<string, number>();
  const failures: string[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
  const runId = await new Promise<string>((resolvePromise, reject) => {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line) as { runId?: string; part?: string; at?: number; failures?: string[] };
        if (event.runId) resolvePromise(event.runId);
        if (event.part !== undefined) recordedAt.set(event.part, event.at!);
        if (event.failures) failures.push(...event.failures);
      }
    });
    child.once('exit', (code) => reject(new Error(`the producer exited (${code}): ${stderr}`)));
  });
  return {
    runId,
    recordedAt,
    failures,
    /** Stops it (it records its failures on the way out); safe to call again. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

async function measureViewers(options: ViewersOptions, dir: string): Promise<{ steps: ViewerStep[]; producerFailures: string[] }> {
  const postgres = await startPostgres();
  const kubo = await startKubo();
  const stats = await openPostgresClient(postgres.url);
  const serve = await startServe(['--database-url', postgres.url, '--store', 'kubo', '--kubo-url', kubo.apiUrl], join(dir, 'serve'));
  const producer = await startProducer(postgres.url, kubo.apiUrl, options);
  try {
    const playlistUrl = `${serve.url}/runs/${producer.runId}/quality/${RENDITIONS[0]}/playlist.m3u8`;
    // A first segment and PART-HOLD-BACK of the next: a viewer's first playlist answers at once.
    await new Promise((r) => setTimeout(r, (SEGMENT_S + 1.5) * 1000));
    // At the machine's limit the bench's own query can time out: that K is still reported, without this figure.
    const transactions = async (): Promise<number | null> => {
      try {
        const { rows } = await stats.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()');
        return Number(rows[0].n);
      } catch (error) {
        log(`viewers: PostgreSQL statistics not read: ${(error as Error).message}`);
        return null;
      }
    };
    const steps: ViewerStep[] = [];
    for (const k of options.viewers) {
      log(`viewers: ${k} viewers, ${options.seconds} s…`);
      const step = await measureStep(options, k, playlistUrl, producer.recordedAt, serve.child.pid!, transactions);
      steps.push(step);
      log(
        `viewers: ${k}: first answer p95 ${step.firstAnswerMs.p95} ms, spread p95 ${step.spreadMs.p95} ms, errors ${step.errors} ` +
          `(${(step.errorRate * 100).toFixed(3)} %), serve ${step.serve.cpuCores} cores, ${step.serve.rssMiB} MiB, ` +
          `${step.postgres.perPlaylistAnswer} PostgreSQL transactions per playlist answer`,
      );
    }
    await producer.stop();
    return { steps, producerFailures: producer.failures };
  } finally {
    await producer.stop();
    serve.child.kill('SIGINT');
    await new Promise((r) => serve.child.once('exit', r));
    await stats.close();
    await kubo.stop();
    await postgres.stop();
  }
}

const probeSummary = ({ medianLatencyS, p95LatencyS, maxStallAfterS, playedS, fatalErrors, requests, stalls }: HlsLatencyReport): ProbeSummary => ({
  medianLatencyS, p95LatencyS, maxStallAfterS, playedS, fatalErrors, requests, stalls: stalls.length,
});

async function measureHostile(options: ViewersOptions, dir: string): Promise<HostilePhase> {
  const demo = launchDemo(['--low-latency', '--size', '640x360', '--preset', 'ultrafast', '--segment', '1', '--duration', String(options.probeSeconds * 2 + 300)], join(dir, 'demo'));
  const browser = await launchBrowser({ width: 640, height: 360 });
  try {
    const start = await demo.started;
    await demo.firstMaster();
    const master = await (await fetch(start.masterUrl)).text();
    const variant = master.split('\n').find((line) => line !== '' && !line.startsWith('#'))!;
    const playlistUrl = new URL(variant, start.masterUrl).href;
    const warmupS = Math.min(10, options.probeSeconds / 3);
    log(`viewers: hostile: hls.js alone, ${options.probeSeconds} s…`);
    const alone = await measureHlsLatency({ url: start.masterUrl, seconds: options.probeSeconds, warmupS, browser });
    const hostile = new HostileLoad(playlistUrl, options.hostile, Math.min(3000, options.hostile * 2), 10_000);
    hostile.start();
    try {
      await new Promise((r) => setTimeout(r, Math.min(3000, options.hostile * 2) + 1000));
      log(`viewers: hostile: hls.js with ${options.hostile} hostile held requests, ${options.probeSeconds} s…`);
      const underLoad = await measureHlsLatency({ url: start.masterUrl, seconds: options.probeSeconds, warmupS, browser });
      const metrics = await (await fetch(`${start.serverUrl}/metrics`)).text();
      const heldAtEnd = Number(/^abrcast_held_requests (\d+)/m.exec(metrics)?.[1] ?? NaN);
      return {
        hostile: options.hostile,
        alone: probeSummary(alone),
        underLoad: probeSummary(underLoad),
        heldAtEnd,
        hostileAnswers: hostile.counters.playlists,
        hostileErrors: Object.fromEntries(hostile.counters.errors),
      };
    } finally {
      await hostile.stop();
    }
  } finally {
    await browser.close();
    const code = await demo.stop();
    if (code !== 0) log(`viewers: hostile: demo exited ${code}: ${demo.stderr().slice(-2000)}`);
  }
}

export async function benchViewers(options: ViewersOptions): Promise<ViewersReport> {
  const startedAt = new Date();
  const machine = await describeMachine();
  log(`viewers: K = ${options.viewers.join(', ')}, ${options.seconds} s each, parts of ${options.partBytes} bytes; load ${machine.loadAverage.join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-bench-viewers-'));
  try {
    const { steps, producerFailures } = await measureViewers(options, dir);
    let hostile: ViewersReport['hostile'];
    if (options.hostile === 0) hostile = { skipped: '--hostile 0' };
    else {
      try {
        hostile = await measureHostile(options, dir);
      } catch (error) {
        hostile = { error: (error as Error).message };
      }
    }
    const { json: _json, outDir: _outDir, ...settings } = options;
    return {
      case: 'viewers',
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      loadAverageAtEnd: (await describeMachine()).loadAverage,
      options: { ...settings, cli: demoEntry().kind },
      goals: VIEWER_GOALS,
      producerFailures,
      steps,
      hostile,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ms = (value: number | null) => (value === null ? '–' : `${value}`);
const seconds = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} s`);

export function formatViewersReport(report: ViewersReport): string {
  const { goals } = report;
  const header = ['viewers', 'first answer p50/p95/p99 ms', 'spread p50/p95/p99 ms', 'errors', 'missing', 'req/s', 'serve cores', 'per 1000 viewers', 'RSS MiB', 'PG xact/answer'];
  const rows = report.steps.map((step) => [
    String(step.viewers),
    `${ms(step.firstAnswerMs.p50)} / ${ms(step.firstAnswerMs.p95)} / ${ms(step.firstAnswerMs.p99)}${step.meetsGoals.firstAnswerP95 ? '' : ' (goal missed)'}`,
    `${ms(step.spreadMs.p50)} / ${ms(step.spreadMs.p95)} / ${ms(step.spreadMs.p99)}${step.meetsGoals.spreadP95 ? '' : ' (goal missed)'}`,
    `${step.errors} (${(step.errorRate * 100).toFixed(3)} %)`,
    String(step.missingAnswers),
    String(step.requests.perSecond),
    step.serve.cpuCores.toFixed(2),
    step.serve.cpuCoresPer1000Viewers.toFixed(2),
    String(step.serve.rssMiB),
    String(step.postgres.perPlaylistAnswer ?? '–'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const table = [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
  const { hostile } = report;
  const hostileLine =
    'skipped' in hostile
      ? `Hostile held requests: skipped (${hostile.skipped})`
      : 'error' in hostile
        ? `Hostile held requests: FAILED: ${hostile.error}`
        : `hls.js on the same run, alone: median ${seconds(hostile.alone.medianLatencyS)} behind, longest stall ${seconds(hostile.alone.maxStallAfterS)}; ` +
          `with ${hostile.hostile} hostile held requests (${hostile.heldAtEnd} held at the end): median ${seconds(hostile.underLoad.medianLatencyS)}, ` +
          `longest stall ${seconds(hostile.underLoad.maxStallAfterS)}, fatal errors ${hostile.underLoad.fatalErrors.length}`;
  return [
    `LL viewers on one abrcast serve (PostgreSQL, Kubo); goals: ≥ ${goals.viewers} viewers with first-answer p95 ≤ ${goals.firstAnswerP95Ms} ms, ` +
      `spread p95 ≤ ${goals.spreadP95Ms} ms, errors ≤ ${goals.errorRate * 100} %`,
    table,
    hostileLine,
    `Machine: ${report.machine.nproc} × ${report.machine.cpuModel}; load ${report.machine.loadAverage.join(' ')} at the start, ${report.loadAverageAtEnd.join(' ')} at the end`,
  ].join('\n');
}

async function writeReport(report: ViewersReport, options: ViewersOptions): Promise<string> {
  await mkdir(options.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = [report.date, host, 'viewers', ...(options.quick ? ['quick'] : []), ...(options.tag ? [options.tag] : [])].join('-');
  const path = join(options.outDir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

export async function viewersMain(args: string[]): Promise<void> {
  const options = parseViewersOptions(args);
  const report = await benchViewers(options);
  const path = await writeReport(report, options);
  const text = formatViewersReport(report);
  if (options.json) {
    log(`\n${text}\nwrote ${path}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${text}\n\nwrote ${path}\n`);
  }
}
