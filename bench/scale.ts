// `npm run bench -- --case scale`: the scaled-out setup on one machine. A run is
// published (replicas 2) onto 2 Kubo peers with PostgreSQL as the registry; 2
// `abrcast serve` processes (each reading from its own peer first) sit behind
// HAProxy. autocannon loads the run's media playlist through HAProxy with one
// instance in rotation (the other in maintenance), then with both: requests per
// second, their ratio, each process's CPU seconds, and requests per CPU-second
// (on a small machine the ceiling is the CPUs, not the number of instances).
// Then one LL run watched at once from its producer and through HAProxy, with
// a serve process killed halfway (latency difference, stall at the kill), and
// the time for a segment added on peer A to be fetchable from peer B
// (bench/peer-propagation.ts). Results: bench/results/<date>-<host>-scale[-quick][-tag].json.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

import { defaultLadder } from '../src/encoder/ladder.js';
import { invalidParameterError } from '../src/errors.js';
import { MultiResolutionHlsOutput } from '../src/publish/multi-resolution-hls-output.js';
import { openRegistry } from '../src/registry/open-registry.js';
import { KuboPeersStore } from '../src/store/kubo-peers-store.js';
import { launchBrowser } from '../test/support/browser.js';
import { freePort } from '../test/support/free-port.js';
import { startHaproxy, type HaproxyHandle } from '../test/support/haproxy.js';
import { measureHlsLatency, type HlsLatencyReport } from '../test/support/hls-latency-probe.js';
import { startKuboPeers } from '../test/support/kubo-peers.js';
import { startPostgres } from '../test/support/postgres.js';
import { makeFrameRing } from './frames.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { measurePeerPropagation, type PeerPropagationResult } from './peer-propagation.js';
import { feedFrames } from './service-stream.js';
import { log } from './log.js';
import { integer } from './options.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const DEFAULT_OUT_DIR = fileURLToPath(new URL('results', import.meta.url));
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS = 100;

export const SCALE_USAGE = `--case scale (2 Kubo peers, PostgreSQL, 2 \`abrcast serve\` processes, HAProxy):
  --quick            CI smoke run: 1 s of load per phase, 2 connections, 5 propagation samples
  --seconds N        seconds of load per phase (default 10)
  --connections N    autocannon connections (default 20)
  --samples N        peer propagation samples (default 50)
  --latency-seconds N  seconds each LL latency probe watches (default 40; --quick 10)
  --out-dir, --tag, --json as for every case`;

export interface ScaleConfig {
  quick: boolean;
  seconds: number;
  connections: number;
  samples: number;
  /** Seconds the two LL latency probes watch (after the first frame). */
  latencySeconds: number;
  /** The published run: seconds of 320x180 at 10 fps, 1 s segments. */
  runSeconds: number;
  outDir: string;
  tag?: string;
  json: boolean;
}

export interface PhaseResult {
  /** Serve instances in HAProxy's rotation. */
  instances: number;
  requests: { total: number; perSecondMean: number };
  latencyMs: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  /** CPU seconds each process used during the load. */
  cpuSeconds: { serve1: number; serve2: number; haproxy: number; loadGenerator: number };
  /** Requests per CPU-second of the serve processes, and of serve + HAProxy. */
  requestsPerServeCpuSecond: number;
  requestsPerCpuSecond: number;
}

export interface ScaleReport {
  schema: 1;
  case: 'scale';
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  config: Omit<ScaleConfig, 'json' | 'outDir'>;
  playlist: {
    path: string;
    one: PhaseResult;
    two: PhaseResult;
    /** two / one, of requests per second. */
    ratio: number;
  };
  propagation: PeerPropagationResult;
  /**
   * One LL run (`abrcast demo --low-latency`, replicas 2) watched at once by two
   * independent hls.js pages: one from the producer's own server (one process
   * encodes, publishes and serves), one through HAProxy and the 2 serve processes.
   */
  latency: {
    singleProcess: LatencySummary;
    throughHaproxy: LatencySummary;
    /** throughHaproxy − singleProcess, of the median latencies (seconds). */
    medianDifferenceS: number;
    /**
     * serve1 is killed (SIGKILL) halfway through: seconds after the pages opened,
     * and the longest stall of the HAProxy page from 1 s before to 8 s after it.
     */
    serveKill: { atS: number; longestStallS: number };
  };
}

export type LatencySummary = Pick<HlsLatencyReport, 'medianLatencyS' | 'p95LatencyS' | 'maxStallAfterS' | 'playedS' | 'fatalErrors' | 'errors' | 'requests' | 'partsInPlaylist'>;

const summary = ({ medianLatencyS, p95LatencyS, maxStallAfterS, playedS, fatalErrors, errors, requests, partsInPlaylist }: HlsLatencyReport): LatencySummary => ({
  medianLatencyS, p95LatencyS, maxStallAfterS, playedS, fatalErrors, errors, requests, partsInPlaylist,
});


export function parseScaleOptions(argv: string[]): ScaleConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean' }, seconds: { type: 'string' }, connections: { type: 'string' }, samples: { type: 'string' },
      'latency-seconds': { type: 'string' },
      'out-dir': { type: 'string' }, tag: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const tag = values.tag;
  if (tag !== undefined && !/^[A-Za-z0-9._-]{1,40}$/.test(tag)) throw invalidParameterError('--tag', 'string of 1 to 40 characters [A-Za-z0-9._-]', tag);
  return {
    quick,
    seconds: integer('--seconds', values.seconds ?? (quick ? '1' : '10'), 1, 600),
    connections: integer('--connections', values.connections ?? (quick ? '2' : '20'), 1, 1000),
    samples: integer('--samples', values.samples ?? (quick ? '5' : '50'), 1, 10_000),
    latencySeconds: integer('--latency-seconds', values['latency-seconds'] ?? (quick ? '10' : '40'), 5, 3600),
    runSeconds: quick ? 3 : 10,
    outDir: values['out-dir'] ?? DEFAULT_OUT_DIR,
    ...(tag ? { tag } : {}),
    json: values.json ?? false,
  };
}


/** utime + stime of a process and all its descendants, in seconds (from /proc). */
function treeCpuSeconds(rootPid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirProc()) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    ticks.set(entry, Number(fields[11]) + Number(fields[12]));
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(entry);
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total / CLOCK_TICKS;
}

function readdirProc(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** `abrcast serve` as a child process; resolves once it listens. */
async function startServe(port: number, args: string[], dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', String(port), '--json', '--data-dir', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (/"event":"start"/.test(stdout)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`abrcast serve exited (${code}) before listening: ${stderr}`)));
  });
  return child;
}

async function loadPhase(
  config: ScaleConfig,
  haproxy: HaproxyHandle,
  path: string,
  instances: number,
  pids: { serve1: number; serve2: number; haproxy: number },
): Promise<PhaseResult> {
  const before = { serve1: treeCpuSeconds(pids.serve1), serve2: treeCpuSeconds(pids.serve2), haproxy: treeCpuSeconds(pids.haproxy) };
  const ownBefore = process.cpuUsage();
  const result = await autocannon({ url: `${haproxy.url}${path}`, connections: config.connections, duration: config.seconds, pipelining: 1, timeout: 10, workers: 1 });
  const own = process.cpuUsage(ownBefore);
  const cpuSeconds = {
    serve1: treeCpuSeconds(pids.serve1) - before.serve1,
    serve2: treeCpuSeconds(pids.serve2) - before.serve2,
    haproxy: treeCpuSeconds(pids.haproxy) - before.haproxy,
    loadGenerator: (own.user + own.system) / 1e6,
  };
  const serveCpu = cpuSeconds.serve1 + cpuSeconds.serve2;
  const total = result.requests.total;
  return {
    instances,
    requests: { total, perSecondMean: result.requests.mean },
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    non2xx: result.non2xx,
    errors: result.errors,
    cpuSeconds,
    requestsPerServeCpuSecond: serveCpu > 0 ? total / serveCpu : 0,
    requestsPerCpuSecond: serveCpu + cpuSeconds.haproxy > 0 ? total / (serveCpu + cpuSeconds.haproxy) : 0,
  };
}

/** Warm-up left out of the latency figures: hls.js's start-up catch-up. */
const LATENCY_WARMUP_S = 5;

async function measureLatency(
  config: ScaleConfig,
  databaseUrl: string,
  kuboUrls: string[],
  haproxy: HaproxyHandle,
  dataDir: string,
  killServe: () => void,
): Promise<ScaleReport['latency']> {
  const duration = config.latencySeconds + 30;
  const producer = spawn(process.execPath, [
    '--import', 'tsx', CLI, 'demo', '--low-latency', '--size', '320x180', '--fps', '15', '--segment', '1', '--duration', String(duration),
    '--encoder', 'x264', '--preset', 'ultrafast', '--port', '0', '--json', '--data-dir', dataDir, '--database-url', databaseUrl,
    '--store', 'kubo', '--kubo-url', kuboUrls.join(','), '--replicas', String(kuboUrls.length),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  producer.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const browser = await launchBrowser({ width: 640, height: 360 });
  try {
    const start = await new Promise<{ runId: string; serverUrl: string }>((resolve, reject) => {
      let stdout = '';
      producer.stdout!.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        const line = stdout.split('\n').find((l) => l.includes('"event":"start"'));
        if (line) resolve(JSON.parse(line) as { runId: string; serverUrl: string });
      });
      producer.once('exit', (code) => reject(new Error(`abrcast demo exited (${code}) before its run started: ${stderr}`)));
    });
    const watch = (base: string) =>
      measureHlsLatency({ url: `${base}/runs/${start.runId}/master.m3u8`, seconds: config.latencySeconds, warmupS: LATENCY_WARMUP_S, browser, startTimeoutMs: 60_000 });
    const opened = Date.now();
    let killedAtS = Number.NaN;
    // Halfway through the watch, counting a few seconds for the first frame.
    const killer = setTimeout(() => {
      killedAtS = (Date.now() - opened) / 1000;
      killServe();
    }, (LATENCY_WARMUP_S + config.latencySeconds / 2) * 1000);
    const [single, balanced] = await Promise.all([watch(start.serverUrl), watch(haproxy.url)]).finally(() => clearTimeout(killer));
    const difference = single.medianLatencyS !== null && balanced.medianLatencyS !== null ? balanced.medianLatencyS - single.medianLatencyS : Number.NaN;
    // Stall times count from the page's first frame; the kill's from the opening of the pages.
    const nearKill = balanced.stalls.filter((stall) => stall.atS + balanced.firstFrameS >= killedAtS - 1 && stall.atS + balanced.firstFrameS <= killedAtS + 8);
    return {
      singleProcess: summary(single),
      throughHaproxy: summary(balanced),
      medianDifferenceS: Number(difference.toFixed(3)),
      serveKill: { atS: Number(killedAtS.toFixed(3)), longestStallS: Math.max(0, ...nearKill.map((stall) => stall.durationS)) },
    };
  } finally {
    await browser.close();
    producer.kill('SIGKILL');
  }
}

export async function measureScale(config: ScaleConfig): Promise<ScaleReport> {
  const startedAt = new Date();
  const machine = await describeMachine();
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-bench-scale-'));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    log('bench: scale: PostgreSQL, 2 Kubo peers');
    const [postgres, peers] = await Promise.all([startPostgres(), startKuboPeers(2)]);
    closers.push(() => postgres.stop(), () => peers.stop());

    // One finished run, published with replicas 2 (every playlist and segment on both peers).
    const registry = await openRegistry({ databaseUrl: postgres.url });
    const store = new KuboPeersStore({ peers: peers.apiUrls, replicas: 2 });
    const [width, height, fps] = [320, 180, 10];
    const output = new MultiResolutionHlsOutput({
      sourceSize: [width, height], fps, segmentDuration: 1, renditions: defaultLadder(width, height), encoder: 'x264',
      x264Preset: 'ultrafast', store, registry, segmentUrl: '/ipfs/{cid}', journalDir: join(dir, 'journal'),
    });
    try {
      await feedFrames(output, makeFrameRing(width, height, fps), { from: 0, to: config.runSeconds * fps, fps, paced: false });
    } finally {
      await output.close();
      await store.close();
      await registry.close();
    }
    const path = `/runs/${output.runId}/quality/${output.renditions[0]!.name}/playlist.m3u8`;

    log('bench: scale: 2 abrcast serve processes behind HAProxy');
    const serves: ChildProcess[] = [];
    closers.push(async () => {
      for (const child of serves) child.kill('SIGKILL');
    });
    const ports = [await freePort(), await freePort()];
    for (let i = 0; i < 2; i++) {
      const nearestFirst = [peers.apiUrls[i]!, peers.apiUrls[1 - i]!].join(',');
      serves.push(await startServe(ports[i]!, ['--database-url', postgres.url, '--store', 'kubo', '--kubo-url', nearestFirst], join(dir, `serve${i + 1}`)));
    }
    const haproxy = await startHaproxy(ports.map((port) => `127.0.0.1:${port}`));
    closers.push(() => haproxy.stop());
    await haproxy.waitForServers('UP');
    const pids = { serve1: serves[0]!.pid!, serve2: serves[1]!.pid!, haproxy: haproxy.pid };
    // Warm both instances' caches (the playlist is read from IPFS once per instance).
    for (let i = 0; i < 4; i++) await (await fetch(`${haproxy.url}${path}`)).arrayBuffer();

    await haproxy.setEnabled('serve2', false);
    await haproxy.waitForServers('MAINT', ['serve2']);
    const one = await loadPhase(config, haproxy, path, 1, pids);
    log(`bench: scale: 1 instance  ${one.requests.perSecondMean.toFixed(0)} req/s, ${one.requestsPerCpuSecond.toFixed(0)} req per CPU-second`);
    await haproxy.setEnabled('serve2', true);
    await haproxy.waitForServers('UP', ['serve2']);
    const two = await loadPhase(config, haproxy, path, 2, pids);
    log(`bench: scale: 2 instances ${two.requests.perSecondMean.toFixed(0)} req/s, ${two.requestsPerCpuSecond.toFixed(0)} req per CPU-second`);

    log(`bench: scale: LL latency, one run watched from its producer's server and through HAProxy, ${config.latencySeconds} s`);
    const latency = await measureLatency(config, postgres.url, peers.apiUrls, haproxy, join(dir, 'producer'), () => serves[0]!.kill('SIGKILL'));
    log(`bench: scale: LL latency median ${latency.singleProcess.medianLatencyS} s single process, ${latency.throughHaproxy.medianLatencyS} s through HAProxy`);

    log(`bench: scale: peer propagation, ${config.samples} samples`);
    const propagation = await measurePeerPropagation({ peers: [peers.apiUrls[0]!, peers.apiUrls[1]!], samples: config.samples });

    const { json: _json, outDir: _outDir, ...kept } = config;
    return {
      schema: 1,
      case: 'scale',
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
      config: kept,
      playlist: { path, one, two, ratio: one.requests.perSecondMean > 0 ? two.requests.perSecondMean / one.requests.perSecondMean : 0 },
      propagation,
      latency,
    };
  } finally {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => undefined);
  }
}

export function formatScaleTables(report: ScaleReport): string {
  const { one, two, ratio } = report.playlist;
  const row = (phase: PhaseResult) =>
    `| ${phase.instances} | ${phase.requests.perSecondMean.toFixed(0)} | ${phase.latencyMs.p50} / ${phase.latencyMs.p99} | ` +
    `${phase.cpuSeconds.serve1.toFixed(2)} / ${phase.cpuSeconds.serve2.toFixed(2)} / ${phase.cpuSeconds.haproxy.toFixed(2)} / ${phase.cpuSeconds.loadGenerator.toFixed(2)} | ` +
    `${phase.requestsPerServeCpuSecond.toFixed(0)} | ${phase.requestsPerCpuSecond.toFixed(0)} | ${phase.non2xx + phase.errors} |`;
  const p = report.propagation;
  const l = report.latency;
  const latencyRow = (label: string, value: LatencySummary) =>
    `| ${label} | ${value.medianLatencyS ?? '–'} | ${value.p95LatencyS ?? '–'} | ${value.maxStallAfterS} | ${value.fatalErrors.length} |`;
  const ms = (value: { p50: number; p99: number }) => `${value.p50.toFixed(1)} / ${value.p99.toFixed(1)}`;
  return [
    `Media playlist through HAProxy (${report.config.connections} connections, ${report.config.seconds} s per phase; ${report.machine.nproc} CPUs, load ${report.machine.loadAverage.join(' ')}):`,
    '',
    '| serve instances | req/s | latency p50 / p99 ms | CPU s serve1 / serve2 / haproxy / autocannon | req per serve CPU-s | req per serve+haproxy CPU-s | failed |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row(one),
    row(two),
    '',
    `2 instances / 1: ${ratio.toFixed(2)} x the requests per second.`,
    '',
    `Peer propagation (${p.samples} files of ${p.bytes} bytes), p50 / p99 ms: add on A ${ms(p.addMs)}, ` +
      `added on A → fetchable on B ${ms(p.propagationMs)}, replicated add (pinned on both) ${ms(p.replicatedAddMs)}.`,
    '',
    `LL-HLS latency behind PROGRAM-DATE-TIME, one run (demo --low-latency, replicas 2) watched ${report.config.latencySeconds} s by two hls.js pages:`,
    '',
    '| served by | median s | p95 s | longest stall s | fatal errors |',
    '| --- | ---: | ---: | ---: | ---: |',
    latencyRow('the producer (single process)', l.singleProcess),
    latencyRow('HAProxy → 2 serve processes', l.throughHaproxy),
    '',
    `Difference of the medians: ${l.medianDifferenceS.toFixed(2)} s. serve1 killed (SIGKILL) ${l.serveKill.atS.toFixed(1)} s in: ` +
      `longest stall of the HAProxy page around it ${l.serveKill.longestStallS.toFixed(2)} s.`,
  ].join('\n');
}

export async function scaleMain(argv: string[]): Promise<void> {
  const config = parseScaleOptions(argv);
  if (config === 'help') {
    process.stdout.write(`${SCALE_USAGE}\n`);
    return;
  }
  const report = await measureScale(config);
  await mkdir(config.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = [report.date, host, 'scale', ...(config.quick ? ['quick'] : []), ...(config.tag ? [config.tag] : [])].join('-');
  const written = join(config.outDir, `${name}.json`);
  await writeFile(written, `${JSON.stringify(report, null, 2)}\n`);
  const tables = formatScaleTables(report);
  if (config.json) {
    log(`\n${tables}\n\nwrote ${written}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${tables}\n\nwrote ${written}\n`);
  }
}
