// The checks on every setting's value, and the defaults. Commander reads the
// values: a flag, else its environment variable (Option.env), else our default
// here. Each parser below runs as the option's argParser and gets the name the
// value came from (--port or ABRCAST_PORT, see main.ts), so a bad value is named
// in the sharp-style "Expected ... for <source> but received ...".
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Container, EncoderChoice, LatencyProfile } from '../encoder/types.js';
import { invalidParameterError } from '../errors.js';
import { KEY_SECRET_ENV, secretsFromEnvironment } from '../crypto/server-secret.js';
import { MIN_WINDOW_TARGETS, targetDurationFor } from '../hls/media-playlist.js';
import { keyUrlResolver } from '../hls/segment-url.js';
import { CHANNEL_NAME_PATTERN, isValidChannelName } from '../model/channel-name.js';
import { redactDatabaseUrl } from '../registry/postgres-client.js';
import { isValidRunId } from '../registry/validation.js';
import { parseTtl } from '../crypto/playback-token.js';
import type { CaptionInput } from '../publish/caption-cues.js';
import type { TokenConfig } from './commands/token.js';
import { isIP } from 'node:net';
import { parseCaptionFile } from './caption-file.js';
import { usageError } from './errors.js';

export const DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  store: 'embedded',
  kuboUrl: 'http://127.0.0.1:5001',
  replicas: 1,
  size: '1280x720',
  fps: 30,
  durationSeconds: 0,
  preset: 'veryfast',
  segmentSeconds: 2,
  encoder: 'auto',
} as const;

export const STORE_KINDS = ['embedded', 'kubo'] as const;

/** LL-HLS part length `--low-latency` aims at (RFC 8216bis suggests 0.3 to 1 s; hls.js's LL demos use 1/3 s). */
export const LOW_LATENCY_PART_SECONDS = 0.333;

/** --container, --low-latency, --window, --channel and the private-run flags, shared by demo and encode. */
export interface StreamFlags {
  container?: Container;
  lowLatency?: boolean;
  window?: number;
  channel?: string;
  encrypt?: boolean;
  keyRotation?: number;
  keyUrl?: string;
}

/** What --container, --low-latency, --window and --channel mean for the encoder and the publisher. */
export interface StreamConfig {
  container: Container;
  /** --low-latency: LL-HLS parts and x264/NVENC without added delay. */
  lowLatency: boolean;
  latency: LatencyProfile;
  /** --window: live playlists slide over this many seconds (the rest is archived). */
  windowSeconds?: number;
  /** --channel: publish on this channel's stable URL, continuing its previous run. */
  channel?: string;
  /** --encrypt: a private run (AES-128 media, keys in the registry under ABRCAST_KEY_SECRET, playback behind tokens). */
  encryption?: { keyRotation?: number; keyUrl?: string };
}

/** How to make a server secret, for the messages that ask for one. */
export const SECRET_FIX = `Set ${KEY_SECRET_ENV} to a secret of at least 32 characters, the same for producers and servers, e.g. \`export ${KEY_SECRET_ENV}=$(openssl rand -base64 32)\``;

/** The server secret from the environment, checked; a usage error (naming the variable, never the value) if it is unusable. */
export function requireSecretFromEnvironment(why: string): void {
  let secrets;
  try {
    secrets = secretsFromEnvironment();
  } catch (error) {
    throw usageError((error as Error).message, SECRET_FIX);
  }
  if (!secrets) throw usageError(`${why} needs the server secret, and ${KEY_SECRET_ENV} is not set`, SECRET_FIX);
}

/**
 * The stream flags, checked against the segment duration: a window must hold at least
 * three target durations (RFC 8216 6.2.2).
 */
export function resolveStreamConfig(flags: StreamFlags, segmentSeconds: number, command: string): StreamConfig {
  const lowLatency = flags.lowLatency === true;
  if (flags.window !== undefined) {
    const least = MIN_WINDOW_TARGETS * targetDurationFor(segmentSeconds);
    if (flags.window < least) {
      invalid({ value: String(flags.window), source: '--window' }, `number of seconds of at least ${MIN_WINDOW_TARGETS} target durations (${least} with ${segmentSeconds} s segments)`, flags.window, command);
    }
  }
  const base = {
    container: flags.container ?? 'ts', lowLatency, latency: lowLatency ? 'low' as const : 'normal' as const,
    ...(flags.window !== undefined ? { windowSeconds: flags.window } : {}),
    ...(flags.channel !== undefined ? { channel: flags.channel } : {}),
  };
  if (flags.encrypt !== true) {
    if (flags.keyRotation !== undefined || flags.keyUrl !== undefined) {
      throw usageError(`${flags.keyRotation !== undefined ? '--key-rotation' : '--key-url'} is for a private run`, 'Add --encrypt');
    }
    return base;
  }
  if (flags.keyUrl !== undefined) {
    try {
      keyUrlResolver(flags.keyUrl, '--key-url');
    } catch (error) {
      throw usageError((error as Error).message, `See \`abrcast ${command} --help\``);
    }
  }
  requireSecretFromEnvironment('--encrypt');
  return {
    ...base,
    encryption: { ...(flags.keyRotation !== undefined ? { keyRotation: flags.keyRotation } : {}), ...(flags.keyUrl !== undefined ? { keyUrl: flags.keyUrl } : {}) },
  };
}

/** --channel: a slug (a URL path segment people type). */
export function channelName(command: string): ValueParser<string> {
  return (text, source) => {
    if (!isValidChannelName(text)) invalid({ value: text, source }, `channel name matching ${CHANNEL_NAME_PATTERN} (1 to 40 lowercase letters, digits and inner '-')`, text, command);
    return text;
  };
}

/**
 * The part duration of a --low-latency run: LOW_LATENCY_PART_SECONDS rounded to a whole
 * number of frames (at least one, at most the segment), as the encoder requires.
 */
export function lowLatencyPartDuration(fps: number, segmentSeconds: number): number {
  const framesPerSegment = Math.max(1, Math.round(fps * segmentSeconds));
  const frames = Math.min(framesPerSegment, Math.max(1, Math.round(LOW_LATENCY_PART_SECONDS * fps)));
  return frames / fps;
}
export type StoreKind = (typeof STORE_KINDS)[number];

/** Option values as commander hands them over, already parsed by the parsers below. */
export interface ServiceFlags {
  dataDir?: string;
  store?: StoreKind;
  kuboUrl?: string[];
  replicas?: number;
  databaseUrl?: string;
  ipfsListen?: string[];
  ipfsAnnounce?: string[];
  ipfsPeer?: string[];
}

export interface ServerFlags {
  port?: number;
  host?: string;
  maxHeldRequests?: number;
  adminToken?: string;
  adminPort?: number;
  adminHost?: string;
  tlsCert?: PemFile;
  tlsKey?: PemFile;
}

/** A PEM file named by --tls-cert or --tls-key, read when the option is parsed. */
export interface PemFile {
  path: string;
  pem: Buffer;
  /** The flag or variable it came from. */
  source: string;
}

export interface DemoFlags extends ServiceFlags, ServerFlags, StreamFlags {
  size?: [number, number];
  fps?: number;
  duration?: number;
  preset?: string;
  segment?: number;
  encoder?: EncoderChoice;
}

/** An option's parser: the value and the name it came from (flag or environment variable). */
export type ValueParser<T> = (value: string, source: string, previous: T | undefined) => T;

export interface ServiceConfig {
  /** Root of the embedded stores: <dataDir>/ipfs (Helia blocks) and <dataDir>/db (PGlite). */
  dataDir: string;
  store: StoreKind;
  /** Kubo peers' RPC URLs, nearest first: adds and reads go to the first that answers. */
  kuboUrls: string[];
  /** Peers that must pin a segment or playlist before it counts as published (1 to kuboUrls.length). */
  replicas: number;
  /** PostgreSQL URL; undefined selects the embedded PGlite database. */
  databaseUrl?: string;
  /** Multiaddrs the embedded store listens on; [] keeps it offline (the default). */
  ipfsListen: string[];
  /** Multiaddrs it announces instead. */
  ipfsAnnounce: string[];
  /** Peers it connects to at start. */
  ipfsPeers: string[];
}

export interface ServerConfig {
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
  /** Cap on held requests; undefined: the server's default from the open-file limit. */
  maxHeldRequests?: number;
  /** Bearer token the admin routes (/runs, /, /metrics) require. */
  adminToken?: string;
  /** The admin routes on a listener of their own (undefined: beside the playlists). */
  adminPort?: number;
  adminHost?: string;
  /** --tls-cert and --tls-key: the server speaks HTTPS, HTTP/2 to clients that offer it. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface DemoConfig extends ServiceConfig, ServerConfig, StreamConfig {
  width: number;
  height: number;
  fps: number;
  /** Seconds of video to make; 0 runs until Ctrl-C. */
  durationSeconds: number;
  preset: string;
  segmentSeconds: number;
  encoder: EncoderChoice;
  /** LL-HLS part seconds with --low-latency (a whole number of frames); undefined: no parts. */
  partDuration?: number;
}

interface Picked {
  value: string;
  /** Where the value came from, for error messages. */
  source: string;
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

/** A number between `min` and `max` (an integer with `integer`). */
export function numberBetween(min: number, max: number, command: string, integer = false): ValueParser<number> {
  return (text, source) => {
    const value = asNumber(text);
    const ok = typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
    if (!ok) invalid({ value: text, source }, `${integer ? 'integer' : 'number'} between ${min} and ${max}`, value, command);
    return value as number;
  };
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

/** An http(s) URL, without trailing slashes. */
export function httpUrl(command: string): ValueParser<string> {
  return (value, source) => parseHttpUrl({ value, source }, command);
}

/** http(s) URLs: a repeatable flag whose every value (and its environment variable) may be a comma-separated list. */
export function httpUrlList(command: string): ValueParser<string[]> {
  return (value, source, previous) => {
    const list = value.split(',').map((item) => item.trim()).filter(Boolean);
    if (list.length === 0) invalid({ value, source }, 'http(s) URL such as http://127.0.0.1:5001', value, command);
    return [...(previous ?? []), ...list.map((item) => parseHttpUrl({ value: item, source }, command))];
  };
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** ~/.abrcast */
export function defaultDataDir(): string {
  return join(homedir(), '.abrcast');
}

/** A directory: not blank, ~ expanded, made absolute. */
export function directory(command: string): ValueParser<string> {
  return (value, source) => {
    if (value.trim() === '') invalid({ value, source }, 'non-empty directory path', '', command);
    return resolve(expandHome(value));
  };
}

/** A postgres:// URL; the message never echoes its password. */
export function databaseUrl(command: string): ValueParser<string> {
  return (value, source) => {
    if (!/^postgres(ql)?:\/\/\S+$/.test(value)) invalid({ value, source }, 'postgres:// or postgresql:// URL', redactDatabaseUrl(value), command);
    return value;
  };
}

/** --tls-cert / --tls-key: a readable PEM file (~ expanded). */
export function pemFile(command: string, expected: 'CERTIFICATE' | 'PRIVATE KEY'): ValueParser<PemFile> {
  return (value, source) => {
    if (value.trim() === '') invalid({ value, source }, 'path of a PEM file', '', command);
    const path = resolve(expandHome(value));
    let pem: Buffer;
    try {
      pem = readFileSync(path);
    } catch (error) {
      throw usageError(`Cannot read ${source} file ${path}: ${(error as Error).message}`,
        `Give the path of a PEM file holding the ${expected.toLowerCase()}; see \`abrcast ${command} --help\``);
    }
    if (!pem.includes(`-----BEGIN `) || !pem.includes(expected)) {
      invalid({ value, source }, `PEM file with a ${expected} block (-----BEGIN ...${expected}-----)`, path, command);
    }
    return { path, pem, source };
  };
}

/** A host name or IP address to listen on. */
export function hostName(command: string): ValueParser<string> {
  return (value, source) => {
    if (!/^[A-Za-z0-9.:[\]-]+$/.test(value)) invalid({ value, source }, 'host name or IP address such as 127.0.0.1', value, command);
    return value;
  };
}

/** Multiaddrs: a repeatable flag, or its environment variable as a comma-separated list. */
export function multiaddrList(command: string): ValueParser<string[]> {
  return (value, source, previous) => {
    const list = value.split(',').map((item) => item.trim()).filter(Boolean);
    for (const item of list) {
      if (!/^\/\S+$/.test(item)) invalid({ value, source }, 'multiaddr such as /ip4/0.0.0.0/tcp/4002', item, command);
    }
    return [...(previous ?? []), ...list];
  };
}

export function resolveServiceConfig(flags: ServiceFlags): ServiceConfig {
  const store = flags.store ?? DEFAULTS.store;
  const ipfsListen = flags.ipfsListen ?? [];
  const ipfsAnnounce = flags.ipfsAnnounce ?? [];
  const ipfsPeers = flags.ipfsPeer ?? [];
  if (store === 'kubo' && ipfsListen.length > 0) {
    throw usageError('--ipfs-listen is for the embedded store; Kubo has its own swarm settings', 'Drop --ipfs-listen, or use --store embedded');
  }
  if (ipfsListen.length === 0 && (ipfsAnnounce.length > 0 || ipfsPeers.length > 0)) {
    throw usageError('--ipfs-announce and --ipfs-peer need --ipfs-listen: the embedded store is offline without it', 'Add --ipfs-listen /ip4/0.0.0.0/tcp/4002');
  }
  const kuboUrls = [...new Set(flags.kuboUrl ?? [DEFAULTS.kuboUrl])];
  const replicas = flags.replicas ?? DEFAULTS.replicas;
  if (store !== 'kubo' && replicas > 1) {
    throw usageError(`--replicas ${replicas} is for the Kubo store: the embedded store is one node`, 'Use --store kubo with a --kubo-url per peer, or drop --replicas');
  }
  if (replicas > kuboUrls.length) {
    const { message } = invalidParameterError('--replicas', `integer from 1 to ${kuboUrls.length} (the number of --kubo-url peers)`, replicas);
    throw usageError(message, 'Give a --kubo-url for each peer (repeat it, or separate URLs with commas), or lower --replicas');
  }
  return {
    dataDir: flags.dataDir ?? defaultDataDir(),
    store,
    kuboUrls,
    replicas,
    databaseUrl: flags.databaseUrl,
    ipfsListen,
    ipfsAnnounce,
    ipfsPeers,
  };
}

export function resolveServerConfig(flags: ServerFlags, command = 'serve'): ServerConfig {
  if (flags.adminHost !== undefined && flags.adminPort === undefined) {
    throw usageError('--admin-host needs --admin-port (without it the admin routes are served beside the playlists)', `Add --admin-port <port>; see \`abrcast ${command} --help\``);
  }
  return {
    host: flags.host ?? DEFAULTS.host,
    port: flags.port ?? DEFAULTS.port,
    ...(flags.maxHeldRequests !== undefined ? { maxHeldRequests: flags.maxHeldRequests } : {}),
    ...(flags.adminToken !== undefined ? { adminToken: flags.adminToken } : {}),
    ...(flags.adminPort !== undefined ? { adminPort: flags.adminPort, adminHost: flags.adminHost ?? DEFAULTS.host } : {}),
    ...resolveTls(flags, command),
  };
}

/** --tls-cert and --tls-key together, as startServer's `tls`; {} without them. */
function resolveTls({ tlsCert, tlsKey }: ServerFlags, command: string): Pick<ServerConfig, 'tls'> {
  if (tlsCert === undefined && tlsKey === undefined) return {};
  if (tlsCert === undefined || tlsKey === undefined) {
    throw usageError(`${(tlsCert ?? tlsKey)!.source} needs ${tlsCert ? '--tls-key' : '--tls-cert'}`,
      `Give both, the certificate chain and its private key as PEM files; see \`abrcast ${command} --help\``);
  }
  // Checked here, so a key that is not the certificate's is a usage error naming both files.
  try {
    createSecureContext({ cert: tlsCert.pem, key: tlsKey.pem });
  } catch (error) {
    throw usageError(
      `${tlsCert.source} ${tlsCert.path} and ${tlsKey.source} ${tlsKey.path} are not a certificate and its key: ${(error as Error).message}`,
      `Give the certificate chain (server certificate first) and the private key it was issued for; see \`abrcast ${command} --help\``,
    );
  }
  return { tls: { cert: tlsCert.pem, key: tlsKey.pem } };
}

/** What startServer takes from the server flags. */
export function serverListenOptions(config: ServerConfig): Pick<ServerConfig, 'host' | 'port' | 'maxHeldRequests' | 'adminToken' | 'adminPort' | 'adminHost' | 'tls'> {
  const { host, port, maxHeldRequests, adminToken, adminPort, adminHost, tls } = config;
  return {
    host, port,
    ...(maxHeldRequests !== undefined ? { maxHeldRequests } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    ...(adminPort !== undefined ? { adminPort, adminHost: adminHost ?? DEFAULTS.host } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** --admin-token: a bearer token of at least 16 characters (the message never echoes it). */
export function adminToken(command: string): ValueParser<string> {
  return (value, source) => {
    if (value.length < 16 || /\s/.test(value)) {
      throw usageError(`Expected a token of at least 16 characters without whitespace for ${source}`, `e.g. \`${source === '--admin-token' ? '--admin-token' : `export ${source}=`}$(openssl rand -base64 24)\`; see \`abrcast ${command} --help\``);
    }
    return value;
  };
}

/** "1280x720" -> [1280, 720]: even sizes (4:2:0 video) from 64x64 up to 7680x4320. */
export function frameSize(command: string): ValueParser<[number, number]> {
  return (value, source) => {
    const picked = { value, source };
    const expected = 'WIDTHxHEIGHT of even integers from 64x64 to 7680x4320, such as 1280x720';
    const match = /^(\d{1,5})x(\d{1,5})$/.exec(value.trim());
    if (!match) invalid(picked, expected, value, command);
    const width = Number(match[1]);
    const height = Number(match[2]);
    const ok = width % 2 === 0 && height % 2 === 0 && width >= 64 && height >= 64 && width <= 7680 && height <= 4320;
    if (!ok) invalid(picked, expected, value, command);
    return [width, height];
  };
}

/** --segment: seconds from 0.5 to 60. */
export const segmentSeconds = (command: string) => numberBetween(0.5, 60, command);

export function resolveDemoConfig(flags: DemoFlags): DemoConfig {
  const command = 'demo';
  const service = resolveServiceConfig(flags);
  const server = resolveServerConfig(flags, command);
  const [width, height] = flags.size ?? frameSize(command)(DEFAULTS.size, '--size', undefined);
  const fps = flags.fps ?? DEFAULTS.fps;
  const segment = flags.segment ?? DEFAULTS.segmentSeconds;
  const framesPerSegment = fps * segment;
  if (Math.abs(framesPerSegment - Math.round(framesPerSegment)) > 1e-6) {
    invalid({ value: String(segment), source: '--segment' }, `number of seconds that is a whole number of frames at ${fps} fps`, segment, command);
  }
  const stream = resolveStreamConfig(flags, segment, command);
  return {
    ...service,
    ...server,
    ...stream,
    ...(stream.lowLatency ? { partDuration: lowLatencyPartDuration(fps, segment) } : {}),
    width,
    height,
    fps,
    durationSeconds: flags.duration ?? DEFAULTS.durationSeconds,
    preset: flags.preset ?? DEFAULTS.preset,
    segmentSeconds: segment,
    encoder: flags.encoder ?? DEFAULTS.encoder,
  };
}

/** --limit of `abrcast runs`: 1 to 1000, default 50. */
export const RUNS_LIMIT = { default: 50, parse: numberBetween(1, 1000, 'runs', true) } as const;

/** The <id> argument of `abrcast resume` (alias finalize). */
export function checkRunId(id: string): string {
  if (!isValidRunId(id)) {
    throw usageError(invalidParameterError('<id>', 'run id such as rabc234def567', id).message, 'List the runs with `abrcast runs`');
  }
  return id;
}


export interface EncodeFlags extends ServiceFlags, ServerFlags, StreamFlags {
  live?: boolean;
  audio?: string;
  captions?: string;
  captionsLanguage?: string;
  ladder?: number[];
  renditions?: string;
  segment?: number;
  encoder?: EncoderChoice;
  preset?: string;
  out?: string;
  gateway?: string;
  serve?: boolean;
}

export interface EncodeConfig extends ServiceConfig, ServerConfig, StreamConfig {
  /** Path or URL, as given (libavformat opens it). */
  input: string;
  live: boolean;
  /** Replaces the input's own audio track. */
  audio?: string;
  /** --captions: a WebVTT file's cues, a subtitle rendition in `captionsLanguage`. */
  captions?: { path: string; language: string; cues: CaptionInput[] };
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

/** --captions <file.vtt> in --captions-language: read and parsed before any service opens. */
function readCaptions(path: string, language: string, readText: (path: string) => string, command: string): { path: string; language: string; cues: CaptionInput[] } {
  if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(language)) {
    invalid({ value: language, source: '--captions-language' }, 'RFC 5646 language tag such as en or pt-BR', language, command);
  }
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    throw usageError(`Cannot read --captions file ${path}: ${(error as Error).message}`, 'Pass the path of a WebVTT (.vtt) file');
  }
  return { path, language, cues: parseCaptionFile(path, text) };
}

export function resolveEncodeConfig(input: string, flags: EncodeFlags, readText: (path: string) => string): EncodeConfig {
  const command = 'encode';
  if (typeof input !== 'string' || input.trim() === '') {
    throw usageError('Missing <input>: the file or URL to encode', 'Run `abrcast encode <file-or-url>`, see `abrcast encode --help`');
  }
  const service = resolveServiceConfig(flags);
  const server = resolveServerConfig(flags, command);
  if (flags.ladder !== undefined && flags.renditions !== undefined) {
    throw usageError('--ladder and --renditions cannot be used together', 'Give target heights with --ladder or the whole ladder with --renditions');
  }
  const renditions = flags.renditions !== undefined ? parseRenditionsJson(flags.renditions, readText, command) : undefined;
  if (flags.out !== undefined && flags.out.trim() === '') invalid({ value: flags.out, source: '--out' }, 'non-empty directory path', '', command);
  if (flags.audio !== undefined && flags.audio.trim() === '') invalid({ value: flags.audio, source: '--audio' }, 'non-empty path or URL', '', command);
  const captions = flags.captions === undefined ? undefined : readCaptions(flags.captions, flags.captionsLanguage ?? 'en', readText, command);
  if (flags.captionsLanguage !== undefined && flags.captions === undefined) {
    throw usageError('--captions-language needs --captions', 'Pass the WebVTT file with --captions <file.vtt>');
  }
  if (flags.captions !== undefined && (flags.window !== undefined || flags.channel !== undefined)) {
    // The library refuses it too (outputSettings): subtitle playlists list the whole run.
    throw usageError(`--captions cannot be used with ${flags.window !== undefined ? '--window' : '--channel'} yet: a sliding run has no subtitle playlists`, 'Drop --captions, or the window');
  }
  return {
    ...service,
    ...server,
    ...resolveStreamConfig(flags, flags.segment ?? ENCODE_DEFAULTS.segmentSeconds, command),
    input,
    live: flags.live === true,
    ...(flags.audio !== undefined ? { audio: flags.audio } : {}),
    ...(captions ? { captions } : {}),
    ...(flags.ladder ? { ladderHeights: flags.ladder } : {}),
    ...(renditions !== undefined ? { renditions } : {}),
    segmentSeconds: flags.segment ?? ENCODE_DEFAULTS.segmentSeconds,
    encoder: flags.encoder ?? DEFAULTS.encoder,
    preset: flags.preset ?? DEFAULTS.preset,
    ...(flags.out !== undefined ? { outDir: resolve(expandHome(flags.out)) } : {}),
    ...(flags.gateway ? { gateway: flags.gateway } : {}),
    serve: flags.serve === true,
  };
}

/** --ttl of `abrcast token` when not given. */
export const TOKEN_DEFAULT_TTL = '1h';

/** A token lifetime: seconds, or 90s, 30m, 1h, 7d. */
export function ttlSeconds(command: string): ValueParser<number> {
  return (value, source) => {
    try {
      return parseTtl(value, source);
    } catch (error) {
      throw usageError((error as Error).message, `See \`abrcast ${command} --help\``);
    }
  };
}

/** An IPv4 or IPv6 address. */
export function ipAddress(command: string): ValueParser<string> {
  return (value, source) => {
    if (isIP(value) === 0) invalid({ value, source }, 'IPv4 or IPv6 address such as 203.0.113.7', value, command);
    return value;
  };
}

export interface TokenFlags {
  ttl?: number;
  ip?: string;
  server?: string;
}

/** `abrcast token <run|channel> <name>`: the scope checked, the secret present. */
export function resolveTokenConfig(kind: 'run' | 'channel', name: string, flags: TokenFlags): TokenConfig {
  if (kind === 'run' && !isValidRunId(name)) {
    throw usageError(invalidParameterError('<name>', 'run id such as rabc234def567', name).message, 'List the runs with `abrcast runs`');
  }
  if (kind === 'channel' && !isValidChannelName(name)) {
    throw usageError(invalidParameterError('<name>', `channel name matching ${CHANNEL_NAME_PATTERN}`, name).message, 'See `abrcast token --help`');
  }
  requireSecretFromEnvironment('abrcast token');
  return {
    scope: kind === 'run' ? { run: name } : { channel: name },
    ttlSeconds: flags.ttl ?? parseTtl(TOKEN_DEFAULT_TTL),
    ...(flags.ip !== undefined ? { ip: flags.ip } : {}),
    ...(flags.server !== undefined ? { server: flags.server } : {}),
  };
}
