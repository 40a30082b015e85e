// LL-HLS on the dynamic quality endpoint (RFC 8216bis 6.2.5): the playlist with
// parts, blocking reloads (_HLS_msn/_HLS_part), delta updates (_HLS_skip), and
// the part and segment URIs it lists. These handlers only parse, ask the
// process's live model (src/server/live-runs.ts) and send: no SQL per request,
// and requests waiting for the same moment share one serialised answer.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { serializeLowLatencyPlaylist, skippableSegments } from '../../hls/low-latency-playlist.js';
import { joinWebVtt } from '../../hls/webvtt.js';
import { isWholeSegment, refusal, satisfies, type LiveEdge, type PartContainer } from '../live-edge.js';
import type { LiveRendition } from '../live-rendition.js';
import { acceptsGzip } from '../compression.js';
import { IMMUTABLE, MPEGURL, quoted, send, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { isComingSegment, streamRecordedParts } from '../segment-stream.js';
import { startable } from '../start-rules.js';
import { lowLatencyPlaylistWithToken, playbackRoute } from '../playback-access.js';
import type { LowLatencyMediaPlaylist } from '../../hls/low-latency-types.js';
import { qualityParam, runIdParam } from '../validation.js';
import { HOLD_TARGETS } from '../../model/channel-handover.js';

/** RFC 8216bis 6.2.5.2: a blocking request not satisfied within 3 target durations gets 503 (a channel's hand-over counts on it). */
const BLOCK_TARGETS = HOLD_TARGETS;
/** A held request for an encrypted segment looks for its record at least this often (a record sends no change). */
const SEGMENT_RECHECK_MS = 250;
/** Retry-After (seconds) of a request refused because the process holds as many as it may. */
export const HELD_RETRY_AFTER_S = 1;

const CONTENT_TYPES: Record<PartContainer, string> = { ts: 'video/mp2t', m4s: 'video/mp4', vtt: 'text/vtt; charset=utf-8' };

interface Query {
  msn?: number;
  part?: number;
  skip: boolean;
}

/** The LL query parameters, or an error message for 400. */
function readQuery(url: URL): Query | string {
  const integer = (name: string): number | undefined | string => {
    const raw = url.searchParams.get(name);
    if (raw === null) return undefined;
    return /^\d{1,15}$/.test(raw) ? Number(raw) : `${name} must be a non-negative integer, got ${quoted(raw)}`;
  };
  const msn = integer('_HLS_msn');
  const part = integer('_HLS_part');
  if (typeof msn === 'string') return msn;
  if (typeof part === 'string') return part;
  if (part !== undefined && msn === undefined) return '_HLS_part needs _HLS_msn';
  const skip = url.searchParams.get('_HLS_skip');
  if (skip !== null && skip !== 'YES' && skip !== 'v2') return `_HLS_skip must be YES or v2, got ${quoted(skip)}`;
  return { msn, part, skip: skip !== null };
}

interface Answer {
  text: string;
  gzip?: Buffer;
}

/** The texts of each view, full and delta: built once, whoever asks (the viewers a part wakes at once share them). */
const answers = new WeakMap<LiveEdge, { full?: Answer; delta?: Answer }>();

function answerOf(edge: LiveEdge, skip: boolean): Answer {
  let texts = answers.get(edge);
  if (!texts) answers.set(edge, (texts = {}));
  const key = skip ? 'delta' : 'full';
  let answer = texts[key];
  answer ??= texts[key] = { text: serializeView(edge.playlist, skip) };
  return answer;
}

/** The text of a view, full or as a delta update (RFC 8216bis 6.2.5.1). */
function serializeView(playlist: LowLatencyMediaPlaylist, skip: boolean): string {
  const skipped = skip && playlist.serverControl.canSkipUntil !== undefined
    ? skippableSegments(playlist.segments, playlist.pendingParts, playlist.serverControl.canSkipUntil)
    : 0;
  return serializeLowLatencyPlaylist({ ...playlist, skippedSegments: skipped });
}

function sendAnswer(request: RouteRequest, edge: LiveEdge, skip: boolean, blocking: boolean): void {
  const token = request.playback?.token;
  // A private run's view with the viewer's token in every URI is that viewer's own: serialised for it alone.
  const answer = token === undefined ? answerOf(edge, skip) : { text: serializeView(lowLatencyPlaylistWithToken(edge.playlist, token), skip) };
  // A blocking answer names a moment that exists, so caches may keep it briefly (the URL changes with each moment).
  const cacheControl = blocking && !edge.ended ? `public, max-age=${edge.playlist.targetDuration}` : 'no-cache';
  const gzipped = acceptsGzip(request.req) ? (answer.gzip ??= gzipSync(answer.text)) : undefined;
  sendPlaylist(request.req, request.res, answer.text, { 'Content-Type': MPEGURL, 'Cache-Control': cacheControl }, gzipped ? { gzipped } : {});
}

/** 503 for a request that would be held while the process holds as many as it may. */
export function sendHeldLimit(request: RouteRequest): void {
  sendError(request.res, 503, 'server busy: too many requests held open', { 'Retry-After': String(HELD_RETRY_AFTER_S) });
}

/**
 * Answers the quality playlist request in LL-HLS form from the rendition's
 * live model; false (nothing sent) when it has nothing to list, for the plain path.
 */
export async function serveLowLatencyPlaylist(request: RouteRequest, live: LiveRendition): Promise<boolean> {
  let edge = live.edge();
  if (!edge) return false;
  const query = readQuery(request.url);
  if (typeof query === 'string') {
    sendError(request.res, 400, query);
    return true;
  }
  const { msn, part } = query;
  if (msn !== undefined) {
    const why = refusal(edge, msn, part);
    if (why) {
      sendError(request.res, 400, why);
      return true;
    }
  }
  // What the answer must hold: the part a blocking reload names; for a plain request, a start point.
  const ready = msn !== undefined ? (view: LiveEdge) => satisfies(view, msn, part) : startable;
  if (!ready(edge)) {
    const timeoutMs = BLOCK_TARGETS * edge.playlist.targetDuration * 1000;
    const held = await request.server.held.hold(() => live.wait(ready, timeoutMs, request.res));
    if (!held) {
      sendHeldLimit(request);
      return true;
    }
    if (request.res.destroyed) return true;
    if (held.value) edge = held.value;
    else if (msn !== undefined) {
      sendError(request.res, 503, `part ${msn}.${part ?? 0} did not appear within ${BLOCK_TARGETS} target durations`, {
        'Retry-After': String(edge.playlist.targetDuration),
      });
      return true;
    } else {
      // A plain request gets the playlist as it is at the deadline.
      edge = live.edge() ?? edge;
    }
  }
  sendAnswer(request, edge, query.skip, msn !== undefined);
  return true;
}

const PART_FILE = /^(\d{1,9})\.(\d{1,6})\.(ts|m4s|vtt)$/;
const SEGMENT_FILE = /^(\d{1,9})\.(ts|m4s|vtt)$/;

/** The rendition model behind a part or segment URI, or undefined after answering 404. */
async function renditionOf(request: RouteRequest, runId: string, name: string): Promise<LiveRendition | undefined> {
  const run = await request.server.live.run(runId);
  const model = run && (await run.rendition(name));
  if (!model) sendError(request.res, 404, `No LL-HLS rendition ${name} in run ${runId}`);
  return model;
}

/** Sends whole bytes read into memory (parts, and segments made of them). */
function sendBytes(request: RouteRequest, body: Buffer, contentType: string): void {
  const headers = { 'Content-Type': contentType, 'Cache-Control': IMMUTABLE };
  send(request.res, 200, body, headers);
}

/**
 * A part URI. A stored part is sent at once (immutable); the preload-hinted
 * part is waited for, up to 3 target durations; anything else is 404.
 */
async function servePart(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const match = PART_FILE.exec(request.params.file);
  if (!match) return sendError(request.res, 400, 'Invalid part name: expected {msn}.{part}.ts, .m4s or .vtt');
  const [msn, index] = [Number(match[1]), Number(match[2])];
  const ext = match[3] as PartContainer;
  const model = await renditionOf(request, runId, name);
  if (!model) return;
  const missing = () => sendError(request.res, 404, `No part ${msn}.${index} of ${name} in run ${runId}`);
  if (ext !== model.container) return missing();
  // Parts older than the model keeps (a player far behind) come from the registry: a cold path.
  let stored = model.part(msn, index) ?? (msn < model.partsFrom ? await request.server.registry.getPart(runId, name, msn, index) : undefined);
  if (!stored) {
    const edge = model.edge();
    const hinted = edge?.hinted;
    if (!edge || !hinted || hinted.segmentIndex !== msn || hinted.partIndex !== index) return missing();
    const held = await request.server.held.hold(() =>
      model.wait(() => model.part(msn, index) !== undefined || model.isPassed(msn, index), BLOCK_TARGETS * edge.playlist.targetDuration * 1000, request.res),
    );
    if (!held) return sendHeldLimit(request);
    if (request.res.destroyed) return;
    // Once a later part exists this one never will (its segment ended before it).
    stored = model.part(msn, index);
    if (!stored) return missing();
  }
  sendBytes(request, await request.server.partBytes.get(stored.cid), CONTENT_TYPES[ext]);
}

/**
 * A segment URI (every segment of an LL run is listed as one). A segment
 * finished after the newest publish is its parts, concatenated from memory;
 * a published one streams from the store by its registry record (a cold
 * path: LL-HLS players load parts; a segment is a start or a seek). The
 * segment being written (and the next) is sent part by part as they are
 * recorded: LL-DASH players ask for it early (src/server/segment-stream.ts).
 */
async function serveSegment(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const match = SEGMENT_FILE.exec(request.params.file);
  if (!match) return sendError(request.res, 400, 'Invalid segment name: expected {msn}.ts, .m4s or .vtt');
  const msn = Number(match[1]);
  const ext = match[2] as PartContainer;
  // A private run without parts lists its segments by number too.
  if (request.playback?.private && !(await (await request.server.live.run(runId))?.rendition(name))) {
    return serveRecordedSegment(request, runId, name, msn, ext);
  }
  const model = await renditionOf(request, runId, name);
  if (!model) return;
  const missing = () => sendError(request.res, 404, `No complete segment ${msn} of ${name} in run ${runId}`);
  if (ext !== model.container) return missing();
  const { registry, partBytes } = request.server;
  let segment = msn < model.publishedEnd ? await registry.getSegment(runId, name, msn) : undefined;
  if (!segment && msn < model.publishedEnd) {
    // A channel's run lists the previous run's tail first: those MSNs were numbered by that run.
    const record = (await request.server.live.run(runId))?.record;
    const owner = record?.channel && msn < record.msnBase ? await registry.channelRunForMsn(record.channel, msn) : undefined;
    if (owner) segment = await registry.getSegment(owner, name, msn);
  }
  if (segment) return streamSegment(request, segment.cid, ext);
  if (request.playback?.private) return serveEncryptedSegment(request, model, msn, ext);
  const parts = model.segmentParts(msn);
  if (isWholeSegment(parts, model.runTiming)) {
    const bytes = await Promise.all(parts.map((part) => partBytes.get(part.cid)));
    // WebVTT parts are whole files each: a segment made of them is one file with their cues.
    const body = ext === 'vtt' ? Buffer.from(joinWebVtt(bytes.map((b) => b.toString('utf8')))) : Buffer.concat(bytes);
    return sendBytes(request, body, CONTENT_TYPES[ext]);
  }
  // The media segment being written, or the next: sent part by part as they are recorded (LL-DASH).
  const edge = model.edge();
  if (ext === 'vtt' || !edge || !isComingSegment(edge, msn)) return missing();
  const timeoutMs = BLOCK_TARGETS * edge.playlist.targetDuration * 1000;
  if (!(await streamRecordedParts(request, model, msn, CONTENT_TYPES[ext], timeoutMs))) sendHeldLimit(request);
}

/** A stored segment, streamed from the store by its CID. */
async function streamSegment(request: RouteRequest, cid: string, ext: PartContainer): Promise<void> {
  const { store } = request.server;
  const size = await store.size(cid);
  request.res.writeHead(200, { 'Content-Type': CONTENT_TYPES[ext], 'Content-Length': String(size), 'Cache-Control': IMMUTABLE });
  if (request.req.method === 'HEAD') return void request.res.end();
  await pipeline(Readable.from(store.catStream(cid)), request.res).catch((error: unknown) => {
    // A player that no longer needs it (a seek, a level switch) hangs up: not a server failure.
    if ((error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' && request.res.destroyed) return;
    throw error;
  });
}

/**
 * A segment of a private LL run that is not published yet. Its parts are encrypted
 * each as a whole resource, so their concatenation is not the segment: it is served
 * from its own ciphertext once its upload is recorded, the request held meanwhile
 * (re-checked at each change of the model, up to 3 target durations).
 */
async function serveEncryptedSegment(request: RouteRequest, model: LiveRendition, msn: number, ext: PartContainer): Promise<void> {
  const { registry } = request.server;
  const runId = request.params.id;
  const missing = () => sendError(request.res, 404, `No complete segment ${msn} of ${model.name} in run ${runId}`);
  if (!isWholeSegment(model.segmentParts(msn), model.runTiming)) return missing();
  const edge = model.edge();
  const deadline = performance.now() + BLOCK_TARGETS * (edge?.playlist.targetDuration ?? 1) * 1000;
  for (;;) {
    const segment = await registry.getSegment(runId, model.name, msn);
    if (segment) return streamSegment(request, segment.cid, ext);
    const left = deadline - performance.now();
    if (left <= 0) return sendError(request.res, 503, `segment ${msn} of ${model.name} is not stored yet`, { 'Retry-After': '1' });
    // The next change of the model (a part, a publish) is the moment to look again.
    const held = await request.server.held.hold(() => model.wait(() => true, Math.min(left, SEGMENT_RECHECK_MS), request.res));
    if (!held) return sendHeldLimit(request);
    if (request.res.destroyed) return;
  }
}

/**
 * A segment URI of a private run without parts (its server playlists name segments
 * by number, as LL runs do, since ciphertext cannot be sniffed): its recorded bytes.
 */
async function serveRecordedSegment(request: RouteRequest, runId: string, name: string, msn: number, ext: PartContainer): Promise<void> {
  const run = await request.server.live.run(runId);
  const segment = run && (await request.server.registry.getSegment(runId, name, msn));
  const container: PartContainer | undefined = run && (run.init(name) !== undefined ? 'm4s' : 'ts');
  if (!segment || container !== ext) return sendError(request.res, 404, `No segment ${msn} of ${name} in run ${runId}`);
  await streamSegment(request, segment.cid, ext);
}

export const lowLatencyRoutes: Route[] = [
  { pattern: '/runs/:id/quality/:name/part/:file', handler: playbackRoute(servePart), cors: true },
  { pattern: '/runs/:id/quality/:name/segment/:file', handler: playbackRoute(serveSegment), cors: true },
];

