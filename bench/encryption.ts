// What encryption (--encrypt: AES-128-CBC of every segment, part and init segment,
// src/publish/resource-cipher.ts) costs on a real ladder: the encoder's own output at
// 1080p (every resource the publisher would store, LL parts included), encrypted
// again and again, its CPU time (process.cpuUsage, user + system, so a loaded machine
// changes it less than wall time) per frame of video, against the encoder's CPU per
// frame in the same run; and the bytes it adds (the leading block and PKCS#7 padding).
//   npm run bench -- --case encryption [--seconds 20] [--size 1920x1080] [--ladder 1080,720,360]
//                    [--preset veryfast] [--rounds 5] [--out-dir DIR] [--json]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LadderEncoder, ladderFromHeights, type Container } from '../src/index.js';
import { invalidParameterError } from '../src/errors.js';
import { ResourceCipher } from '../src/publish/resource-cipher.js';
import type { MediaResource } from '../src/publish/resource-store.js';
import { makeFrameRing } from './frames.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { log } from './log.js';

const RESULTS = resolve(fileURLToPath(new URL('.', import.meta.url)), 'results');

export interface EncryptionBenchOptions {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  heights: number[];
  preset: string;
  partDuration: number;
  rounds: number;
  outDir: string;
  json: boolean;
}

export interface EncryptionRow {
  container: Container;
  frames: number;
  resources: { segments: number; parts: number; inits: number };
  /** Clear bytes of every resource (segments and parts both: the publisher stores both). */
  clearBytes: number;
  /** Stored (encrypted) bytes over clear bytes, minus 1: the leading blocks and the padding. */
  byteOverhead: number;
  /** Encryption CPU per frame, microseconds: the least of the rounds, and their median. */
  encryptUsPerFrame: { min: number; median: number };
  /** The encoder's CPU per frame in the same run (all its threads), microseconds. */
  encodeUsPerFrame: number;
  /** encryptUsPerFrame.min over encodeUsPerFrame. */
  shareOfEncode: number;
  /** Encryption throughput at the least CPU time, MB/s of clear bytes on one core. */
  megabytesPerSecond: number;
}

export interface EncryptionReport {
  case: 'encryption';
  date: string;
  machine: MachineInfo;
  /** The CPU has AES instructions (OpenSSL, under node:crypto, uses them). */
  aesInstructions: boolean;
  options: Omit<EncryptionBenchOptions, 'json' | 'outDir'>;
  rows: EncryptionRow[];
}


export function parseEncryptionOptions(args: string[]): EncryptionBenchOptions {
  const { values } = parseArgs({
    args, strict: true,
    options: {
      seconds: { type: 'string' }, size: { type: 'string' }, ladder: { type: 'string' }, preset: { type: 'string' },
      rounds: { type: 'string' }, 'out-dir': { type: 'string' }, json: { type: 'boolean', default: false },
    },
  });
  const size = /^(\d+)x(\d+)$/.exec(values.size ?? '1920x1080');
  if (!size) throw invalidParameterError('--size', 'WxH such as 1920x1080', values.size);
  const seconds = Number(values.seconds ?? '20');
  const rounds = Number(values.rounds ?? '5');
  if (!(seconds >= 2 && seconds <= 600)) throw invalidParameterError('--seconds', 'number between 2 and 600', seconds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw invalidParameterError('--rounds', 'integer between 1 and 100', rounds);
  return {
    width: Number(size[1]), height: Number(size[2]), fps: 30, seconds,
    heights: (values.ladder ?? '1080,720,360').split(',').map(Number),
    preset: values.preset ?? 'veryfast', partDuration: 10 / 30, rounds, outDir: resolve(values['out-dir'] ?? RESULTS), json: values.json,
  };
}

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function measure(options: EncryptionBenchOptions, container: Container): Promise<EncryptionRow> {
  const { width, height, fps } = options;
  const frames = makeFrameRing(width, height, 60);
  const encoder = new LadderEncoder({
    width, height, fps, segmentDuration: 2, encoder: 'x264', x264Preset: options.preset, container, latency: 'low',
    renditions: ladderFromHeights(width, height, options.heights), partDuration: options.partDuration,
  });
  const resources: Array<{ resource: MediaResource; data: Buffer }> = [];
  encoder.on('init', (init) => resources.push({ resource: { kind: 'init', rendition: init.rendition }, data: init.data }));
  encoder.on('part', (part) => resources.push({ resource: { kind: 'part', rendition: part.rendition, segmentIndex: part.segmentIndex, partIndex: part.partIndex }, data: part.data }));
  encoder.on('segment', (segment) => resources.push({ resource: { kind: 'segment', rendition: segment.rendition, index: segment.index }, data: segment.data }));
  const encodeStart = cpuMicros();
  for (let i = 0; i < options.seconds * fps; i++) await encoder.write(frames.frame(i));
  const summary = await encoder.close();
  const encodeUsPerFrame = (cpuMicros() - encodeStart) / summary.frames;

  const key = randomBytes(16);
  const cipher = new ResourceCipher({ container, keyRotation: 30, keyFor: async () => key });
  let storedBytes = 0;
  const rounds: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    storedBytes = 0;
    const start = cpuMicros();
    for (const { resource, data } of resources) storedBytes += (await cipher.encrypt(resource, data)).byteLength;
    rounds.push((cpuMicros() - start) / summary.frames);
  }
  const sorted = [...rounds].sort((a, b) => a - b);
  const clearBytes = resources.reduce((sum, { data }) => sum + data.byteLength, 0);
  const min = sorted[0]!;
  return {
    container,
    frames: summary.frames,
    resources: {
      segments: resources.filter((r) => r.resource.kind === 'segment').length,
      parts: resources.filter((r) => r.resource.kind === 'part').length,
      inits: resources.filter((r) => r.resource.kind === 'init').length,
    },
    clearBytes,
    byteOverhead: Number((storedBytes / clearBytes - 1).toFixed(5)),
    encryptUsPerFrame: { min: Number(min.toFixed(1)), median: Number(sorted[Math.floor(sorted.length / 2)]!.toFixed(1)) },
    encodeUsPerFrame: Math.round(encodeUsPerFrame),
    shareOfEncode: Number((min / encodeUsPerFrame).toFixed(5)),
    megabytesPerSecond: Math.round(clearBytes / (min * summary.frames)),
  };
}

export async function benchEncryption(options: EncryptionBenchOptions): Promise<EncryptionReport> {
  const machine = await describeMachine();
  log(`encryption: ${options.width}x${options.height} ladder ${options.heights.join(',')}, ${options.preset}, ${options.seconds} s, LL parts; load ${machine.loadAverage.join(' ')}`);
  const rows: EncryptionRow[] = [];
  for (const container of ['ts', 'fmp4'] as const) {
    rows.push(await measure(options, container));
    log(`encryption: ${container}: ${rows.at(-1)!.encryptUsPerFrame.min} µs/frame`);
  }
  const { json: _json, outDir: _outDir, ...settings } = options;
  return {
    case: 'encryption', date: new Date().toISOString().slice(0, 10), machine,
    aesInstructions: hasAesInstructions(),
    options: settings, rows,
  };
}

/** x86 'aes' / arm64 'aes' in the CPU flags (Linux). */
function hasAesInstructions(): boolean {
  try {
    return /^(flags|Features)\s*:.*\baes\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export function formatEncryptionReport(report: EncryptionReport): string {
  const { options } = report;
  const lines = [
    `AES-128-CBC of every resource of a ${options.width}x${options.height} ladder (${options.heights.join(', ')}; ${options.preset}; LL parts of ${options.partDuration.toFixed(3)} s; segments and parts both), ` +
      `CPU per frame, least of ${options.rounds} rounds (median); AES instructions: ${report.aesInstructions ? 'yes' : 'no'}`,
  ];
  for (const row of report.rows) {
    lines.push(
      `  ${row.container.padEnd(5)} ${row.encryptUsPerFrame.min} µs/frame (${row.encryptUsPerFrame.median}), ${(100 * row.shareOfEncode).toFixed(2)} % of the encoder's ${row.encodeUsPerFrame} µs/frame, ` +
        `${row.megabytesPerSecond} MB/s on one core, +${(100 * row.byteOverhead).toFixed(2)} % bytes (${row.resources.segments} segments, ${row.resources.parts} parts, ${row.resources.inits} init segments)`,
    );
  }
  return lines.join('\n');
}

export async function encryptionMain(args: string[]): Promise<void> {
  const options = parseEncryptionOptions(args);
  const report = await benchEncryption(options);
  const text = formatEncryptionReport(report);
  await mkdir(options.outDir, { recursive: true });
  const path = join(options.outDir, `${report.date}-${report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-')}-encryption.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  if (options.json) {
    log(`${text}\nwrote ${path}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${text}\n\nwrote ${path}\n`);
  }
}
