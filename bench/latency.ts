// `npm run bench -- --case latency`: how far behind the renderer a viewer is, and how soon
// a stream is watchable (issue 16's goals):
//  - glass-to-glass: `abrcast demo --low-latency` per container, over HTTP/1.1 (plain) and over
//    HTTP/2 (--tls-cert, a throwaway certificate), each run watched in turn by every player
//    (hls.js and Shaka Player, independent pages in Chromium, test/support/hls-latency-probe.ts):
//    median and p95 of now − PROGRAM-DATE-TIME of the frame on screen, and the longest stall
//    after the first 10 s, side by side per player; the first player on the same per container
//    with --encrypt (a private run: AES-128, a token in the URL) over HTTP/1.1, and on a run
//    without --low-latency for comparison. Another player is one more entry of the probe's
//    PLAYERS (and of manifestUrl);
//  - fast start: launch → first master that answers with variants, median of N launches on a
//    warm machine (one untimed launch first creates the database and fills the caches);
//  - cross-process wake-up: a separate `abrcast serve` woken by PostgreSQL NOTIFY for each part.
//   npm run bench -- --case latency [--seconds 60] [--launches 5] [--size 1280x720] [--preset veryfast]
//                    [--segment 2] [--rounds 100] [--players hls.js,shaka,dash.js] [--quick] [--out-dir DIR] [--tag T] [--json]
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { invalidParameterError } from '../src/errors.js';
import { measureCrossProcessWakeup, type WakeupReport } from '../test/support/cross-process-wakeup.js';
import { demoEntry, launchDemo, type DemoStart } from '../test/support/demo-process.js';
import { measureHlsLatency, percentile, PROBE_PLAYERS, type HlsLatencyReport, type ProbePlayer } from '../test/support/hls-latency-probe.js';
import { launchBrowser, type BrowserHandle } from '../test/support/browser.js';
import { makeTestCertificate, type TestCertificate } from '../test/support/tls-certificate.js';
import { startPostgres } from '../test/support/postgres.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { log } from './log.js';

/** Resource timing entries that say nothing of the HTTP version: answered by the browser's cache, or aborted unanswered. */
const NOT_SENT = new Set(['cache', 'aborted']);

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
  /** The players that watch each LL run, in this order. */
  players: ProbePlayer[];
  outDir: string;
  tag?: string;
  json: boolean;
}

/** How the server was started: plain HTTP/1.1, or TLS with HTTP/2 (HTTP/1.1 only for clients without h2). */
export type ServedOver = 'http/1.1' | 'h2';

export interface WatchedRun {
  container: 'ts' | 'fmp4';
  lowLatency: boolean;
  player: ProbePlayer;
  servedOver: ServedOver;
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
      preset: { type: 'string' }, segment: { type: 'string' }, rounds: { type: 'string' }, players: { type: 'string' }, 'out-dir': { type: 'string' },
      tag: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const seconds = number('--seconds', values.seconds ?? (quick ? '6' : '60'), 1, 86_400);
  if (values.size !== undefined && !/^\d+x\d+$/.test(values.size)) throw invalidParameterError('--size', 'string WxH, e.g. 1280x720', values.size);
  const players = (values.players ?? PROBE_PLAYERS.join(',')).split(',').map((name) => name.trim());
  if (players.length === 0 || players.some((name) => !(PROBE_PLAYERS as readonly string[]).includes(name)) || new Set(players).size !== players.length) {
    throw invalidParameterError('--players', `comma-separated list of ${PROBE_PLAYERS.join(', ')} without repeats`, values.players);
  }
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
    players: players as ProbePlayer[],
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

/** What each player opens: dash.js the run's MPD (the same CMAF bytes), the others the master playlist. */
function manifestUrl(player: ProbePlayer, start: DemoStart): string {
  return player === 'dash.js' ? new URL('manifest.mpd', start.masterUrl).href : start.masterUrl;
}

/** DASH is served for clear fMP4 runs only (docs/players.md: LL-DASH), so dash.js watches no other. */
const watches = (player: ProbePlayer, run: { container: 'ts' | 'fmp4'; encrypted: boolean }): boolean =>
  player !== 'dash.js' || (run.container === 'fmp4' && !run.encrypted);

/** The private runs' server secret: the environment's, or a throwaway one for this bench. */
const benchSecretEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ABRCAST_KEY_SECRET: process.env.ABRCAST_KEY_SECRET || randomBytes(32).toString('base64') });

/**
 * One demo run (a container, LL or not, encrypted or not, served over HTTP/1.1 or HTTP/2),
 * watched by each of `players` in turn for options.seconds; one WatchedRun per player.
 */
async function watchRun(
  options: LatencyBenchOptions,
  dir: string,
  run: { container: 'ts' | 'fmp4'; lowLatency: boolean; encrypted: boolean; servedOver: ServedOver; players: ProbePlayer[] },
  browser: BrowserHandle,
  certificate: TestCertificate,
): Promise<WatchedRun[]> {
  const { container, lowLatency, encrypted, servedOver } = run;
  const label = `${container}${lowLatency ? ' --low-latency' : ''}${encrypted ? ' --encrypt' : ''} over ${servedOver}`;
  const tls = servedOver === 'h2' ? ['--tls-cert', certificate.certPath, '--tls-key', certificate.keyPath] : [];
  const flags = ['--container', container, ...(lowLatency ? ['--low-latency'] : []), ...(encrypted ? ['--encrypt'] : []), ...tls];
  const name = `${container}-${lowLatency ? 'll' : 'plain'}${encrypted ? '-encrypted' : ''}-${servedOver.replace('/', '')}`;
  const demo = launchDemo(demoArgs(options, flags), join(dir, name), { env: benchSecretEnv(), ca: certificate.ca });
  try {
    const start = await demo.started;
    const firstMasterS = (await demo.firstMaster()) - demo.launchedAt;
    const watched: WatchedRun[] = [];
    for (const player of run.players.filter((candidate) => watches(candidate, run))) {
      log(`latency: ${label}: master after ${(firstMasterS / 1000).toFixed(2)} s; ${player} watching ${options.seconds} s`);
      const report = await measureHlsLatency({ url: manifestUrl(player, start), player, seconds: options.seconds, warmupS: options.warmupS, browser });
      const { samples, ...probe } = report;
      watched.push({
        container,
        lowLatency,
        encrypted,
        player,
        servedOver,
        firstMasterS: Number((firstMasterS / 1000).toFixed(3)),
        // The first player's page opens right after the master; later ones open once the previous one is done.
        firstFrameAfterLaunchS: Number((firstMasterS / 1000 + report.firstFrameS).toFixed(3)),
        probe: { ...probe, sampleCount: samples.length },
        meetsGoals: lowLatency
          ? { medianLatency: report.medianLatencyS !== null && report.medianLatencyS <= LATENCY_GOALS.medianLatencyS, maxStall: report.maxStallAfterS < LATENCY_GOALS.maxStallS }
          : null,
      });
    }
    return watched;
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
  const certificate = makeTestCertificate();
  const browser = await launchBrowser({ width: 640, height: 360 }, { trustedSpki: [certificate.spkiSha256] });
  try {
    const runs: WatchedRun[] = [];
    const first = options.players.filter((player) => player !== 'dash.js').slice(0, 1);
    for (const container of ['ts', 'fmp4'] as const) {
      for (const servedOver of ['http/1.1', 'h2'] as const) {
        runs.push(...(await watchRun(options, dir, { container, lowLatency: true, encrypted: false, servedOver, players: options.players }, browser, certificate)));
      }
      runs.push(...(await watchRun(options, dir, { container, lowLatency: true, encrypted: true, servedOver: 'http/1.1', players: first }, browser, certificate)));
    }
    // For comparison: the first player on a run without parts.
    runs.push(...(await watchRun(options, dir, { container: 'ts', lowLatency: false, encrypted: false, servedOver: 'http/1.1', players: first }, browser, certificate)));
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
    certificate.remove();
    await rm(dir, { recursive: true, force: true });
  }
}

const seconds = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} s`);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' (goal met)' : ' (goal missed)');

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

/** The LL runs, one row per container and HTTP version, one column per player: median / p95, longest stall after warm-up. */
export function formatPlayerTable(report: LatencyReport): string {
  const ll = report.runs.filter((run) => run.lowLatency && !run.encrypted);
  const players = [...new Set(ll.map((run) => run.player))];
  const version = (player: ProbePlayer) => ll.find((run) => run.player === player)?.probe.playerVersion ?? '';
  const header = ['LL run', 'served over', ...players.map((player) => `${player} ${version(player)}`.trim())];
  const keys = [...new Set(ll.map((run) => `${run.container}|${run.servedOver}`))];
  const rows = keys.map((key) => {
    const [container, servedOver] = key.split('|') as [string, string];
    return [container, servedOver, ...players.map((player) => {
      const run = ll.find((r) => r.container === container && r.servedOver === servedOver && r.player === player);
      if (!run) return '–';
      const { probe } = run;
      if (probe.fatalErrors.length > 0) return `failed: ${probe.fatalErrors[0]!.split('\n')[0]!.slice(0, 60)}`;
      const http = Object.keys(probe.protocols).filter((p) => !NOT_SENT.has(p)).join('+') || '?';
      return `${seconds(probe.medianLatencyS)} / ${seconds(probe.p95LatencyS)}, stall ${seconds(probe.maxStallAfterS)} (${http})`;
    })];
  });
  return formatTable(header, rows);
}

export function formatLatencyReport(report: LatencyReport): string {
  const { goals } = report;
  const header = ['run', 'player', 'over', 'median', 'p95', `max stall after ${report.options.warmupS.toFixed(0)} s`, 'stalls', 'first master', 'first frame', 'parts / blocking reloads', 'fatal errors'];
  const rows = report.runs.map((run) => [
    `${run.container}${run.lowLatency ? ' LL' : ' plain'}${run.encrypted ? ' encrypted' : ''}`,
    run.player,
    Object.keys(run.probe.protocols).filter((p) => !NOT_SENT.has(p)).join('+') || run.servedOver,
    seconds(run.probe.medianLatencyS) + verdict(run.meetsGoals?.medianLatency),
    seconds(run.probe.p95LatencyS),
    seconds(run.probe.maxStallAfterS) + verdict(run.meetsGoals?.maxStall),
    String(run.probe.stalls.length),
    seconds(run.firstMasterS),
    seconds(run.firstFrameAfterLaunchS),
    `${run.probe.requests.parts} / ${run.probe.requests.blockingReloads}`,
    run.probe.fatalErrors.length === 0 ? 'none' : run.probe.fatalErrors.map((e) => e.split('\n')[0]).join('; '),
  ]);
  const table = formatTable(header, rows);
  const { firstMaster, wakeup } = report;
  // Each encrypted LL run against the clear LL run of its container, measured in the same bench.
  const encryptionCost = report.runs.filter((run) => run.encrypted).map((run) => {
    const clear = report.runs.find((other) => !other.encrypted && other.lowLatency === run.lowLatency && other.container === run.container &&
      other.player === run.player && other.servedOver === run.servedOver);
    const delta = clear && run.probe.medianLatencyS !== null && clear.probe.medianLatencyS !== null ? run.probe.medianLatencyS - clear.probe.medianLatencyS : null;
    return `${run.container}: ${delta === null ? '–' : `${delta >= 0 ? '+' : ''}${delta.toFixed(2)} s`}`;
  });
  return [
    `Latency to the renderer (now − PROGRAM-DATE-TIME of the frame on screen), goals: median ≤ ${goals.medianLatencyS} s, no stall ≥ ${goals.maxStallS} s after ${report.options.warmupS.toFixed(0)} s`,
    `Players side by side (median / p95, longest stall after ${report.options.warmupS.toFixed(0)} s; the HTTP version Chromium used):`,
    formatPlayerTable(report),
    '',
    'Every run:',
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
