// Turns flags and environment into checked settings. Precedence: a flag, then
// its environment variable, then the default. A bad value names where it came
// from (--port or ABRCAST_PORT) in the sharp-style "Expected ... but received".
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENCODER_CHOICES, X264_PRESETS } from '../encoder/options.js';
import type { EncoderChoice } from '../encoder/types.js';
import { invalidParameterError } from '../errors.js';
import { redactDatabaseUrl } from '../registry/postgres-client.js';
import { isValidRunId } from '../registry/validation.js';
import { usageError } from './errors.js';

export type Env = Record<string, string | undefined>;

export const DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  store: 'embedded',
  kuboUrl: 'http://127.0.0.1:5001',
  size: '1280x720',
  fps: 30,
  durationSeconds: 0,
  preset: 'veryfast',
  segmentSeconds: 2,
  encoder: 'auto',
} as const;

export const STORE_KINDS = ['embedded', 'kubo'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface ServiceFlags {
  dataDir?: string;
  store?: string;
  kuboUrl?: string;
  databaseUrl?: string;
}

export interface ServerFlags {
  port?: string;
  host?: string;
}

export interface DemoFlags extends ServiceFlags, ServerFlags {
  size?: string;
  fps?: string;
  duration?: string;
  preset?: string;
  segment?: string;
  encoder?: string;
}

export interface ServiceConfig {
  /** Root of the embedded stores: <dataDir>/ipfs (Helia blocks) and <dataDir>/db (PGlite). */
  dataDir: string;
  store: StoreKind;
  kuboUrl: string;
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  databaseUrl?: string;
}

export interface ServerConfig {
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
}

export interface DemoConfig extends ServiceConfig, ServerConfig {
  width: number;
  height: number;
  fps: number;
  /** Seconds of video to make; 0 runs until Ctrl-C. */
  durationSeconds: number;
  preset: string;
  segmentSeconds: number;
  encoder: EncoderChoice;
}

interface Picked {
  value: string;
  /** Where the value came from, for error messages. */
  source: string;
}

/** The flag's value when given, else the environment variable's when set and non-empty. */
function pick(flag: string | undefined, flagName: string, env: Env, envName?: string): Picked | undefined {
  if (flag !== undefined) return { value: flag, source: flagName };
  const fromEnv = envName ? env[envName] : undefined;
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName! };
  return undefined;
}

/** Throws the usage error for a value, with the option's help as the fix. */
function invalid(picked: Picked, expected: string, received: unknown, command: string): never {
  const { message } = invalidParameterError(picked.source, expected, received);
  throw usageError(message, `See \`abrcast ${command} --help\``);
}

/** A string of a plain decimal number becomes that number (so the message says 0, not "0"). */
function asNumber(text: string): number | string {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : text;
}

function parseNumber(picked: Picked, min: number, max: number, command: string, integer = false): number {
  const value = asNumber(picked.value);
  const ok = typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) invalid(picked, `${integer ? 'integer' : 'number'} between ${min} and ${max}`, value, command);
  return value as number;
}

function parseChoice<T extends string>(picked: Picked, choices: readonly T[], command: string): T {
  if (!(choices as readonly string[]).includes(picked.value)) {
    invalid(picked, `one of ${choices.join(', ')}`, picked.value, command);
  }
  return picked.value as T;
}

function parseHttpUrl(picked: Picked, command: string): string {
  let url: URL | undefined;
  try {
    url = new URL(picked.value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    invalid(picked, 'http(s) URL such as http://127.0.0.1:5001', picked.value, command);
  }
  return picked.value.replace(/\/+$/, '');
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** ~/.abrcast */
export function defaultDataDir(): string {
  return join(homedir(), '.abrcast');
}

export function resolveServiceConfig(flags: ServiceFlags, env: Env, command: string): ServiceConfig {
  const dataDirPicked = pick(flags.dataDir, '--data-dir', env, 'ABRCAST_DATA_DIR');
  if (dataDirPicked && dataDirPicked.value.trim() === '') invalid(dataDirPicked, 'non-empty directory path', '', command);
  const dataDir = resolve(expandHome(dataDirPicked?.value ?? defaultDataDir()));

  const storePicked = pick(flags.store, '--store', env, 'ABRCAST_STORE');
  const store = storePicked ? parseChoice(storePicked, STORE_KINDS, command) : DEFAULTS.store;

  const kuboPicked = pick(flags.kuboUrl, '--kubo-url', env, 'KUBO_URL');
  const kuboUrl = kuboPicked ? parseHttpUrl(kuboPicked, command) : DEFAULTS.kuboUrl;

  const databasePicked = pick(flags.databaseUrl, '--database-url', env, 'DATABASE_URL');
  if (databasePicked && !/^postgres(ql)?:\/\/\S+$/.test(databasePicked.value)) {
    // Never echo a password.
    invalid(databasePicked, 'postgres:// or postgresql:// URL', redactDatabaseUrl(databasePicked.value), command);
  }
  return { dataDir, store, kuboUrl, databaseUrl: databasePicked?.value };
}

export function resolveServerConfig(flags: ServerFlags, env: Env, command: string): ServerConfig {
  const portPicked = pick(flags.port, '--port', env, 'ABRCAST_PORT');
  const port = portPicked ? parseNumber(portPicked, 0, 65535, command, true) : DEFAULTS.port;
  const hostPicked = pick(flags.host, '--host', env);
  if (hostPicked && !/^[A-Za-z0-9.:[\]-]+$/.test(hostPicked.value)) {
    invalid(hostPicked, 'host name or IP address such as 127.0.0.1', hostPicked.value, command);
  }
  return { host: hostPicked?.value ?? DEFAULTS.host, port };
}

/** "1280x720" -> [1280, 720]: even sizes (4:2:0 video) from 64x64 up to 7680x4320. */
export function parseSize(picked: Picked, command: string): [number, number] {
  const expected = 'WIDTHxHEIGHT of even integers from 64x64 to 7680x4320, such as 1280x720';
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(picked.value.trim());
  if (!match) invalid(picked, expected, picked.value, command);
  const width = Number(match[1]);
  const height = Number(match[2]);
  const ok = width % 2 === 0 && height % 2 === 0 && width >= 64 && height >= 64 && width <= 7680 && height <= 4320;
  if (!ok) invalid(picked, expected, picked.value, command);
  return [width, height];
}

export function resolveDemoConfig(flags: DemoFlags, env: Env): DemoConfig {
  const command = 'demo';
  const service = resolveServiceConfig(flags, env, command);
  const server = resolveServerConfig(flags, env, command);
  const [width, height] = parseSize(pick(flags.size, '--size', env) ?? { value: DEFAULTS.size, source: '--size' }, command);
  const fpsPicked = pick(flags.fps, '--fps', env);
  const fps = fpsPicked ? parseNumber(fpsPicked, 1, 120, command) : DEFAULTS.fps;
  const durationPicked = pick(flags.duration, '--duration', env);
  const durationSeconds = durationPicked ? parseNumber(durationPicked, 0, 31_536_000, command) : DEFAULTS.durationSeconds;
  const presetPicked = pick(flags.preset, '--preset', env);
  const preset = presetPicked ? parseChoice(presetPicked, X264_PRESETS, command) : DEFAULTS.preset;
  const encoderPicked = pick(flags.encoder, '--encoder', env);
  const encoder = encoderPicked ? parseChoice(encoderPicked, ENCODER_CHOICES, command) : DEFAULTS.encoder;
  const segmentPicked = pick(flags.segment, '--segment', env);
  const segmentSeconds = segmentPicked ? parseNumber(segmentPicked, 0.5, 60, command) : DEFAULTS.segmentSeconds;
  const framesPerSegment = fps * segmentSeconds;
  if (Math.abs(framesPerSegment - Math.round(framesPerSegment)) > 1e-6) {
    const source = segmentPicked ?? { value: String(segmentSeconds), source: '--segment' };
    invalid(source, `number of seconds that is a whole number of frames at ${fps} fps`, segmentSeconds, command);
  }
  return { ...service, ...server, width, height, fps, durationSeconds, preset, segmentSeconds, encoder };
}

/** --limit of `abrcast runs`: 1 to 1000, default 50. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return 50;
  return parseNumber({ value, source: '--limit' }, 1, 1000, 'runs', true);
}

/** The <id> argument of `abrcast resume` (alias finalize). */
export function checkRunId(id: string): string {
  if (!isValidRunId(id)) {
    throw usageError(invalidParameterError('<id>', 'run id such as rabc234def567', id).message, 'List the runs with `abrcast runs`');
  }
  return id;
}

/** --gateway of `abrcast resume`: an http(s) origin, or undefined for the run's own URL form. */
export function parseGateway(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseHttpUrl({ value, source: '--gateway' }, 'resume');
}

export interface EncodeFlags extends ServiceFlags, ServerFlags {
  live?: boolean;
  audio?: string;
  ladder?: string;
  renditions?: string;
  segment?: string;
  encoder?: string;
  preset?: string;
  out?: string;
  gateway?: string;
  serve?: boolean;
}

export interface EncodeConfig extends ServiceConfig, ServerConfig {
  /** Path or URL, as given (libavformat opens it). */
  input: string;
  live: boolean;
  /** Replaces the input's own audio track. */
  audio?: string;
  /** --ladder: target heights, checked against the input once it is probed. */
  ladderHeights?: number[];
  /** --renditions: a ladder as JSON (inline or a file), checked against the input once it is probed. */
  renditions?: unknown;
  segmentSeconds: number;
  encoder: EncoderChoice;
  preset: string;
  outDir?: string;
  /** Origin for absolute playlist URLs and the printed gateway URL; undefined: root-relative /ipfs/<cid>. */
  gateway?: string;
  serve: boolean;
}

export const ENCODE_DEFAULTS = { segmentSeconds: 4, gateway: 'https://ipfs.io' } as const;

/** "1080,720,360" -> [1080, 720, 360]: even heights, each at least 16. */
export function parseLadderHeights(value: string, command = 'encode'): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const heights = parts.map(Number);
  const ok = parts.length > 0 && parts.length <= 16 && heights.every((h, i) => parts[i] !== '' && Number.isInteger(h) && h >= 16 && h % 2 === 0);
  if (!ok) invalid({ value, source: '--ladder' }, 'comma-separated even heights such as 1080,720,360', value, command);
  if (new Set(heights).size !== heights.length) invalid({ value, source: '--ladder' }, 'heights without repeats', value, command);
  return heights;
}

/** --renditions: inline JSON (starting with `[`) or the path of a JSON file. */
export function parseRenditionsJson(value: string, readText: (path: string) => string, command = 'encode'): unknown {
  const picked = { value, source: '--renditions' };
  let text = value.trim();
  if (!text.startsWith('[')) {
    try {
      text = readText(value);
    } catch (error) {
      throw usageError(`Cannot read --renditions file ${value}: ${(error as Error).message}`, 'Pass a JSON array inline or the path of a JSON file');
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return invalid(picked, 'JSON array such as [{"name":"720p","width":1280,"height":720,"bitrate":2500}]', value, command);
  }
}

export function resolveEncodeConfig(input: string, flags: EncodeFlags, env: Env, readText: (path: string) => string): EncodeConfig {
  const command = 'encode';
  if (typeof input !== 'string' || input.trim() === '') {
    throw usageError('Missing <input>: the file or URL to encode', 'Run `abrcast encode <file-or-url>`, see `abrcast encode --help`');
  }
  const service = resolveServiceConfig(flags, env, command);
  const server = resolveServerConfig(flags, env, command);
  if (flags.ladder !== undefined && flags.renditions !== undefined) {
    throw usageError('--ladder and --renditions cannot be used together', 'Give target heights with --ladder or the whole ladder with --renditions');
  }
  const ladderHeights = flags.ladder !== undefined ? parseLadderHeights(flags.ladder, command) : undefined;
  const renditions = flags.renditions !== undefined ? parseRenditionsJson(flags.renditions, readText, command) : undefined;
  const segmentPicked = pick(flags.segment, '--segment', env);
  const segmentSeconds = segmentPicked ? parseNumber(segmentPicked, 0.5, 60, command) : ENCODE_DEFAULTS.segmentSeconds;
  const encoderPicked = pick(flags.encoder, '--encoder', env);
  const encoder = encoderPicked ? parseChoice(encoderPicked, ENCODER_CHOICES, command) : DEFAULTS.encoder;
  const presetPicked = pick(flags.preset, '--preset', env);
  const preset = presetPicked ? parseChoice(presetPicked, X264_PRESETS, command) : DEFAULTS.preset;
  if (flags.out !== undefined && flags.out.trim() === '') invalid({ value: flags.out, source: '--out' }, 'non-empty directory path', '', command);
  if (flags.audio !== undefined && flags.audio.trim() === '') invalid({ value: flags.audio, source: '--audio' }, 'non-empty path or URL', '', command);
  const gateway = flags.gateway !== undefined ? parseHttpUrl({ value: flags.gateway, source: '--gateway' }, command) : undefined;
  return {
    ...service,
    ...server,
    input,
    live: flags.live === true,
    ...(flags.audio !== undefined ? { audio: flags.audio } : {}),
    ...(ladderHeights ? { ladderHeights } : {}),
    ...(renditions !== undefined ? { renditions } : {}),
    segmentSeconds,
    encoder,
    preset,
    ...(flags.out !== undefined ? { outDir: resolve(expandHome(flags.out)) } : {}),
    ...(gateway ? { gateway } : {}),
    serve: flags.serve === true,
  };
}
