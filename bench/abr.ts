// `npm run bench -- --case abr`: ABR under a changing network, per player. One live
// LL run (fMP4 parts, video and AAC muxed, a 3-rung ladder whose rungs need their
// whole bitrate: fresh noise on every frame) is watched in turn by hls.js (LL-HLS),
// Shaka Player (LL-HLS) and dash.js (LL-DASH, the run's MPD), each in an
// independent page in Chromium (test/support/hls-latency-probe.ts) whose download
// rate Chromium throttles through the DevTools Protocol
// (Network.emulateNetworkConditions): --high kbit/s, then --low, then --high again,
// --phase seconds each. Per player: the rung on screen over time, switches, stalls,
// rebuffer time and latency (now − the wall-clock time of the frame on screen), and
// the goals of issue 24:
//  - the top rung that fits (BANDWIDTH ≤ the link rate) is on screen within 10 s of
//    the rate allowing it (each phase);
//  - the step down causes no stall longer than one part target;
//  - latency at the end is within 2 s of its steady value (the end of phase 1).
//   npm run bench -- --case abr [--phase 30] [--high 8000] [--low 1500] [--players hls.js,shaka,dash.js]
//                   [--quick] [--out-dir DIR] [--tag T] [--json]
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import type { Rendition } from '../src/encoder/types.js';
import { invalidParameterError } from '../src/errors.js';
import { launchBrowser } from '../test/support/browser.js';
import { measureHlsLatency, percentile, PROBE_PLAYERS, type HlsLatencyReport, type LatencySample, type ProbePlayer } from '../test/support/hls-latency-probe.js';
import { startLiveRun, waitFor } from '../test/support/live-run.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { log } from './log.js';
import { integer } from './options.js';

const DEFAULT_OUT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

/**
 * Three rungs about 2.7x apart: at 8 Mbit/s the top fits, at 1.5 Mbit/s only the middle and the
 * bottom (BANDWIDTH is 1.5x the bitrate while live, plus the audio). --quick: the same bitrates on
 * smaller pictures, so a loaded machine keeps encoding them in real time.
 */
export const ABR_LADDER: Rendition[] = [
  { name: '360p', width: 640, height: 360, bitrate: 1600 },
  { name: '270p', width: 480, height: 270, bitrate: 600 },
  { name: '180p', width: 320, height: 180, bitrate: 220 },
];
const QUICK_LADDER: Rendition[] = [
  { name: '180p', width: 320, height: 180, bitrate: 1600 },
  { name: '144p', width: 256, height: 144, bitrate: 600 },
  { name: '90p', width: 160, height: 90, bitrate: 220 },
];
const PART_S = 10 / 30;
const SEGMENT_S = 2;

export const ABR_GOALS = {
  /** The top rung that fits is on screen within this long of the rate allowing it. */
  reachTopS: 10,
  /** No stall longer than one part target on the step down. */
  maxStallOnStepDownS: PART_S,
  /** Latency at the end within this much of its steady value. */
  latencyReturnS: 2,
};

export interface AbrOptions {
  quick: boolean;
  phaseS: number;
  highKbps: number;
  lowKbps: number;
  players: ProbePlayer[];
  outDir: string;
  tag?: string;
  json: boolean;
}

export interface RungChange {
  atS: number;
  rung: string;
}

export interface PhaseResult {
  kbps: number;
  fromS: number;
  /** The highest rung whose BANDWIDTH is at most the link rate. */
  fittingRung: string;
  /** Seconds from the phase's start to the fitting rung on screen; null: not within the phase. */
  reachedAfterS: number | null;
  longestStallS: number;
  medianLatencyS: number | null;
}

export interface PlayerResult {
  player: ProbePlayer;
  playerVersion: string;
  manifest: 'LL-HLS' | 'LL-DASH';
  rungs: RungChange[];
  switches: number;
  stalls: number;
  rebufferS: number;
  longestStallS: number;
  /** Median latency over the last third of phase 1. */
  steadyLatencyS: number | null;
  /** Median latency over the last third of phase 3. */
  endLatencyS: number | null;
  phases: PhaseResult[];
  fatalErrors: string[];
  meetsGoals: { reachTop: boolean; noStallOnStepDown: boolean; latencyReturns: boolean };
}

export interface AbrReport {
  case: 'abr';
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  options: Omit<AbrOptions, 'json' | 'outDir'>;
  goals: typeof ABR_GOALS;
  ladder: { name: string; height: number; bandwidth: number }[];
  players: PlayerResult[];
}



export function parseAbrOptions(args: string[]): AbrOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false }, phase: { type: 'string' }, high: { type: 'string' }, low: { type: 'string' },
      players: { type: 'string' }, 'out-dir': { type: 'string' }, tag: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const players = (values.players ?? PROBE_PLAYERS.join(',')).split(',').map((name) => name.trim());
  if (players.some((name) => !(PROBE_PLAYERS as readonly string[]).includes(name)) || new Set(players).size !== players.length) {
    throw invalidParameterError('--players', `comma-separated list of ${PROBE_PLAYERS.join(', ')} without repeats`, values.players);
  }
  return {
    quick: values.quick,
    phaseS: integer('--phase', values.phase ?? (values.quick ? '8' : '30'), 4, 600),
    highKbps: integer('--high', values.high ?? '8000', 100, 1_000_000),
    lowKbps: integer('--low', values.low ?? '1500', 100, 1_000_000),
    players: players as ProbePlayer[],
    outDir: resolve(values['out-dir'] ?? DEFAULT_OUT_DIR),
    ...(values.tag !== undefined ? { tag: values.tag } : {}),
    json: values.json,
  };
}

const rungOf = (ladder: AbrReport['ladder'], height: number) => ladder.find((rung) => rung.height === height)?.name ?? `${height}p?`;
const medianOf = (samples: readonly LatencySample[]) => percentile(samples.map((s) => s.latencyS), 50);
const round = (value: number) => Number(value.toFixed(3));

/** Reads the probe's samples against the network schedule. */
export function analyse(report: HlsLatencyReport, ladder: AbrReport['ladder'], options: Pick<AbrOptions, 'phaseS' | 'highKbps' | 'lowKbps'>): Omit<PlayerResult, 'player' | 'manifest'> {
  const samples = report.samples.filter((s) => s.height > 0);
  const rungs: RungChange[] = [];
  for (const sample of samples) {
    const rung = rungOf(ladder, sample.height);
    if (rungs.at(-1)?.rung !== rung) rungs.push({ atS: sample.atS, rung });
  }
  const stallsIn = (from: number, to: number) => report.stalls.filter((s) => s.atS + s.durationS > from && s.atS < to);
  const schedule = [options.highKbps, options.lowKbps, options.highKbps];
  const phases: PhaseResult[] = schedule.map((kbps, i) => {
    const fromS = i * options.phaseS;
    const toS = fromS + options.phaseS;
    const fitting = ladder.find((rung) => rung.bandwidth <= kbps * 1000) ?? ladder.at(-1)!;
    const reached = samples.find((s) => s.atS >= fromS && s.atS < toS && s.height === fitting.height);
    const inPhase = samples.filter((s) => s.atS >= fromS + (2 * options.phaseS) / 3 && s.atS < toS);
    return {
      kbps,
      fromS,
      fittingRung: fitting.name,
      reachedAfterS: reached ? round(reached.atS - fromS) : null,
      longestStallS: round(Math.max(0, ...stallsIn(fromS, toS).map((s) => s.durationS))),
      medianLatencyS: medianOf(inPhase),
    };
  });
  const steadyLatencyS = phases[0].medianLatencyS;
  const endLatencyS = phases[2].medianLatencyS;
  return {
    playerVersion: report.playerVersion,
    rungs,
    switches: Math.max(0, rungs.length - 1),
    stalls: report.stalls.length,
    rebufferS: round(report.stalls.reduce((sum, s) => sum + s.durationS, 0)),
    longestStallS: round(Math.max(0, ...report.stalls.map((s) => s.durationS))),
    steadyLatencyS,
    endLatencyS,
    phases,
    fatalErrors: report.fatalErrors,
    meetsGoals: {
      reachTop: phases.every((phase) => phase.reachedAfterS !== null && phase.reachedAfterS <= ABR_GOALS.reachTopS),
      noStallOnStepDown: phases[1].longestStallS <= ABR_GOALS.maxStallOnStepDownS,
      latencyReturns: steadyLatencyS !== null && endLatencyS !== null && Math.abs(endLatencyS - steadyLatencyS) <= ABR_GOALS.latencyReturnS,
    },
  };
}

export async function benchAbr(options: AbrOptions): Promise<AbrReport> {
  const startedAt = new Date();
  const machine = await describeMachine();
  log(`abr: ${options.players.join(', ')}; ${options.highKbps} → ${options.lowKbps} → ${options.highKbps} kbit/s, ${options.phaseS} s each; load ${machine.loadAverage.join(' ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-bench-abr-'));
  const tone = join(dir, 'tone.m4a');
  const watchS = 3 * options.phaseS;
  // Long enough for every player's watch and start-up.
  const runS = options.players.length * (watchS + 30) + 60;
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(runS), '-c:a', 'aac', tone]);
  const rungs = options.quick ? QUICK_LADDER : ABR_LADDER;
  const live = await startLiveRun({
    maxSeconds: runS, audioSource: tone, partDuration: PART_S, grain: true,
    output: { container: 'fmp4', segmentDuration: SEGMENT_S, renditions: rungs, sourceSize: [rungs[0].width, rungs[0].height] },
  });
  log(`abr: run ${live.runId} started (${rungs.map((r) => `${r.name} ${r.bitrate} kbit/s`).join(', ')})`);
  const browser = await launchBrowser({ width: 640, height: 360 });
  try {
    const masterUrl = `${live.server.url}/runs/${live.runId}/master.m3u8`;
    const mpdUrl = `${live.server.url}/runs/${live.runId}/manifest.mpd`;
    await waitFor('the MPD', async () => (await fetch(mpdUrl)).status === 200, { timeoutMs: 60_000, intervalMs: 200 });
    // DASH players compute the live edge from the clock: wait until the run keeps its timeline after start-up.
    const { startedAt: runStart } = (await live.registry.getRun(live.runId))!;
    await waitFor('the run to keep real time', async () => {
      const due = Math.floor((Date.now() - runStart!.getTime()) / 1000 / SEGMENT_S);
      const latest = Object.values(await live.registry.latestParts(live.runId));
      return latest.length === rungs.length && latest.every((part) => part.segmentIndex >= due);
    }, { timeoutMs: 90_000, intervalMs: 250 });
    const master = await (await fetch(masterUrl)).text();
    const ladder = rungs.map((rung) => {
      const bandwidth = new RegExp(`BANDWIDTH=(\\d+)[^\\n]*NAME="${rung.name}"`).exec(master)?.[1];
      return { name: rung.name, height: rung.height, bandwidth: Number(bandwidth) };
    });
    log(`abr: ladder ${ladder.map((r) => `${r.name} ${(r.bandwidth / 1000).toFixed(0)} kbit/s`).join(', ')}`);
    const players: PlayerResult[] = [];
    for (const player of options.players) {
      const manifest = player === 'dash.js' ? 'LL-DASH' : 'LL-HLS';
      log(`abr: ${player} (${manifest}) watching ${watchS} s`);
      const report = await measureHlsLatency({
        url: manifest === 'LL-DASH' ? mpdUrl : masterUrl, player, seconds: watchS, warmupS: 0, browser,
        network: [{ fromS: 0, downloadKbps: options.highKbps }, { fromS: options.phaseS, downloadKbps: options.lowKbps }, { fromS: 2 * options.phaseS, downloadKbps: options.highKbps }],
      }).catch((error: unknown) => error as Error);
      if (report instanceof Error) {
        players.push({
          player, playerVersion: '', manifest, rungs: [], switches: 0, stalls: 0, rebufferS: 0, longestStallS: 0, steadyLatencyS: null, endLatencyS: null,
          phases: [], fatalErrors: [report.message.slice(0, 500)], meetsGoals: { reachTop: false, noStallOnStepDown: false, latencyReturns: false },
        });
        continue;
      }
      players.push({ player, manifest, ...analyse(report, ladder, options) });
    }
    const { json: _json, outDir: _outDir, ...settings } = options;
    return {
      case: 'abr', date: startedAt.toISOString().slice(0, 10), startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
      machine, loadAverageAtEnd: (await describeMachine()).loadAverage, options: settings, goals: ABR_GOALS, ladder, players,
    };
  } finally {
    await browser.close();
    await live.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

const s = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} s`);
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

export function formatAbrReport(report: AbrReport): string {
  const { options } = report;
  const header = ['player', 'rungs over time (s: rung)', 'switches', 'stalls / rebuffer / longest', `reach fitting rung (${options.highKbps}/${options.lowKbps}/${options.highKbps})`,
    'latency steady → end', 'goals: reach ≤ 10 s / step-down stall ≤ part / latency back'];
  const rows = report.players.map((p) => [
    `${p.player} ${p.playerVersion} (${p.manifest})`,
    p.fatalErrors.length > 0 && p.rungs.length === 0 ? `failed: ${p.fatalErrors[0].split('\n')[0].slice(0, 120)}` : p.rungs.map((r) => `${r.atS.toFixed(1)}: ${r.rung}`).join(' → '),
    String(p.switches),
    `${p.stalls} / ${s(p.rebufferS)} / ${s(p.longestStallS)}`,
    p.phases.map((phase) => `${phase.fittingRung} ${s(phase.reachedAfterS)}`).join(', '),
    `${s(p.steadyLatencyS)} → ${s(p.endLatencyS)}`,
    `${mark(p.meetsGoals.reachTop)} / ${mark(p.meetsGoals.noStallOnStepDown)} / ${mark(p.meetsGoals.latencyReturns)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [
    `ABR: ${report.ladder.map((r) => `${r.name} BANDWIDTH ${(r.bandwidth / 1000).toFixed(0)} kbit/s`).join(', ')}; network ${options.highKbps} → ${options.lowKbps} → ${options.highKbps} kbit/s, ${options.phaseS} s each`,
    ...[header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')),
    `load average ${report.machine.loadAverage.join(' ')} at the start, ${report.loadAverageAtEnd.join(' ')} at the end`,
  ].join('\n');
}

export async function abrMain(args: string[]): Promise<void> {
  const options = parseAbrOptions(args);
  const report = await benchAbr(options);
  await mkdir(options.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const path = join(options.outDir, `${[report.date, host, 'abr', ...(options.quick ? ['quick'] : []), ...(options.tag ? [options.tag] : [])].join('-')}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  const text = formatAbrReport(report);
  if (options.json) {
    log(`\n${text}\nwrote ${path}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${text}\n\nwrote ${path}\n`);
  }
}
