// LL-HLS on the dynamic quality endpoint (RFC 8216bis 6.2.5): the playlist with
// parts, blocking reloads (_HLS_msn/_HLS_part), delta updates (_HLS_skip), and
// the part and segment URIs it lists, which block for the preload-hinted part
// and stream the bytes from the store by the CIDs in the registry.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { serializeLowLatencyPlaylist, skippableSegments } from '../../hls/low-latency-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../../hls/media-playlist.js';
import type { MediaPlaylist } from '../../hls/types.js';
import type { VariantStreamRecord } from '../../model/variant-stream-record.js';
import { StoreUnavailableError } from '../../store/content-store.js';
import { acceptsGzip } from '../compression.js';
import { parsedPlaylist } from '../playlist-cache.js';
import { buildLiveEdge, endedLowLatencyPlaylist, PART_LISTED_TARGETS, type LiveEdge, type PartContainer } from '../live-edge.js';
import { IMMUTABLE, MPEGURL, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { qualityParam, runIdParam } from '../validation.js';
import { waitForChange } from '../wait-for-change.js';
import { lowLatencyPlaylistWithToken, mediaPlaylistWithToken, playbackRoute } from '../playback-access.js';
import { DEFAULT_KEY_URL_TEMPLATE, keyUrlResolver } from '../../hls/segment-url.js';

/** RFC 8216bis 6.2.5.2: a blocking request not satisfied within 3 target durations gets 503. */
const BLOCK_TARGETS = 3;
/** RFC 8216bis 6.2.5.2: an _HLS_msn more than this past the last segment gets 400. */
const MSN_AHEAD_LIMIT = 2;
/** Part durations are written rounded; their sum may fall this short of a whole number of parts. */
const START_TOLERANCE_S = 1e-3;
/** Segments between the publish and the newest part that the live edge may have to list (upload lag). */
const PUBLISH_LAG_SEGMENTS = 4;

const CONTENT_TYPES: Record<PartContainer, string> = { ts: 'video/mp2t', m4s: 'video/mp4' };

/**
 * Gzip bodies of recent LL playlist texts: the viewers a new part wakes at once
 * all get the same text, so it is compressed once for them, not once each.
 */
const recentGzip = new Map<string, Buffer>();
const RECENT_GZIP_ENTRIES = 32;

function gzipOnce(text: string): Buffer {
  let body = recentGzip.get(text);
  if (body === undefined) {
    body = gzipSync(text);
    if (recentGzip.size >= RECENT_GZIP_ENTRIES) recentGzip.delete(recentGzip.keys().next().value!);
    recentGzip.set(text, body);
  }
  return body;
}

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
    return /^\d{1,15}$/.test(raw) ? Number(raw) : `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`;
  };
  const msn = integer('_HLS_msn');
  const part = integer('_HLS_part');
  if (typeof msn === 'string') return msn;
  if (typeof part === 'string') return part;
  if (part !== undefined && msn === undefined) return '_HLS_part needs _HLS_msn';
  const skip = url.searchParams.get('_HLS_skip');
  if (skip !== null && skip !== 'YES' && skip !== 'v2') return `_HLS_skip must be YES or v2, got ${JSON.stringify(skip)}`;
  return { msn, part, skip: skip !== null };
}

interface EdgeState {
  edge: LiveEdge;
  targetDuration: number;
}

/** A run with parts that has ended: its final playlist, with the segment URIs its live views used. */
interface EndedState {
  ended: MediaPlaylist;
}

/** Reads what the live edge of `name` is made of and builds it; undefined for a run without parts. */
async function loadEdge(
  request: RouteRequest,
  runId: string,
  name: string,
  info: VariantStreamRecord | undefined,
): Promise<EdgeState | EndedState | undefined> {
  const { registry, playlists } = request.server;
  const run = await registry.getRun(runId);
  if (!run) return undefined;
  let published;
  try {
    published = info ? parsedPlaylist(await playlists.get(info.cid)) : undefined;
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    return undefined; // the plain path reports the unreadable playlist (502)
  }
  if (published?.endList) {
    const parts = await registry.latestParts(runId);
    if (parts[name] === undefined) return undefined;
    const inits = await registry.getInitSegments(runId);
    return { ended: endedLowLatencyPlaylist(published, inits[name] ? 'm4s' : 'ts') };
  }
  const targetDuration = published?.targetDuration ?? targetDurationFor(run.segmentDuration);
  const window = Math.ceil((PART_LISTED_TARGETS * targetDuration) / run.segmentDuration) + PUBLISH_LAG_SEGMENTS;
  const [parts, latest, inits] = await Promise.all([
    registry.listLiveEdgeParts(runId, name, window),
    registry.latestParts(runId),
    registry.getInitSegments(runId),
  ]);
  const reports = Object.fromEntries(Object.entries(latest).filter(([rendition]) => rendition !== name));
  const init = inits[name];
  const keys = run.encryption !== null ? await encryptionOf(request, runId, run.keyUrl, init !== undefined) : undefined;
  const mapKey = keys?.initKeys[name];
  const edge = buildLiveEdge({
    run,
    published,
    parts,
    container: init ? 'm4s' : 'ts',
    ...(init ? { mapUri: `/ipfs/${init}`, ...(mapKey && keys ? { mapKey: { method: 'AES-128' as const, uri: keys.keyUri(mapKey.index), iv: mapKey.iv } } : {}) } : {}),
    ...(keys ? { keyUri: keys.keyUri } : {}),
    reports,
  });
  return edge && { edge, targetDuration: edge.playlist.targetDuration };
}

/** An encrypted run's key URIs (the run's template) and, for fMP4, its init segments' keys. */
async function encryptionOf(request: RouteRequest, runId: string, template: string | null, fmp4: boolean) {
  const keyUrl = keyUrlResolver(template ?? DEFAULT_KEY_URL_TEMPLATE);
  return {
    keyUri: (index: number) => keyUrl(runId, index),
    initKeys: fmp4 ? await request.server.registry.getInitSegmentKeys(runId) : {},
  };
}

/** Whether the playlist holds segment `msn` complete or, with `part`, part (msn, part) or later (RFC 8216bis 6.2.5.2). */
function satisfies(edge: LiveEdge, msn: number, part: number | undefined): boolean {
  if (msn <= edge.lastCompleteMsn) return true;
  const last = edge.last;
  if (!last) return false;
  if (last.segmentIndex > msn) return true;
  return part !== undefined && last.segmentIndex === msn && last.partIndex >= part;
}

/**
 * Whether a player may be given its first playlist: a whole segment (hls.js plays from
 * whole segments only; on parts alone it reports levelEmptyError and retries a second
 * later), and a pending segment holding PART-HOLD-BACK of parts (at most all but one part
 * of a segment), so that the start position (edge − PART-HOLD-BACK) lies in the pending
 * segment, at or after its INDEPENDENT first part. Answered earlier, hls.js starts inside
 * the last complete segment, loads its parts back to back from its first, and then (the
 * buffered end 1 µs short of the segment's end) loads that segment once more and appends
 * it after itself: one segment more latency for the whole session (measured, hls.js 1.7).
 */
function startable(edge: LiveEdge): boolean {
  const { pendingParts, serverControl, partTarget, targetDuration } = edge.playlist;
  const needed = Math.min(serverControl.partHoldBack, targetDuration - partTarget) - START_TOLERANCE_S;
  return edge.lastCompleteMsn >= 0 && pendingParts.reduce((sum, part) => sum + part.duration, 0) >= needed;
}

/**
 * Answers the quality playlist request in LL-HLS form when the rendition has
 * parts and the run is live; false (nothing sent) otherwise, for the plain path.
 */
export async function serveLowLatencyPlaylist(
  request: RouteRequest,
  runId: string,
  name: string,
  info: VariantStreamRecord | undefined,
): Promise<boolean> {
  const query = readQuery(request.url);
  let state = await loadEdge(request, runId, name, info);
  if (!state) return false;
  if (typeof query === 'string') {
    sendError(request.res, 400, query);
    return true;
  }
  // RFC 8216bis 6.2.5.2: a playlist with EXT-X-ENDLIST answers a blocking request at once.
  if ('ended' in state) return sendEnded(request, state.ended);
  const { msn, part } = query;
  if (msn !== undefined && msn > state.edge.lastCompleteMsn + MSN_AHEAD_LIMIT) {
    sendError(request.res, 400, `_HLS_msn ${msn} is more than ${MSN_AHEAD_LIMIT} past the last segment (${state.edge.lastCompleteMsn})`);
    return true;
  }
  // What the answer must hold: the part a blocking reload names; for a plain request (a
  // player's first), a start point (startable).
  const wanted = msn !== undefined ? { msn, part } : undefined;
  const answerable = (edge: LiveEdge) => (wanted ? satisfies(edge, wanted.msn, wanted.part) : startable(edge));
  if (!answerable(state.edge)) {
    const ready = await waitForChange({
      registry: request.server.registry,
      runId,
      relevant: (change) => change.rendition === name,
      res: request.res,
      timeoutMs: BLOCK_TARGETS * state.targetDuration * 1000,
      ready: async () => {
        const next = await loadEdge(request, runId, name, (await request.server.registry.getQualityState(runId, name))?.playlist);
        if (next) state = next;
        return next === undefined || 'ended' in next || answerable(next.edge);
      },
    });
    if (request.res.destroyed) return true;
    // The run may have ended while the request waited (the closure above reassigns state).
    const settled = state as EdgeState | EndedState;
    if ('ended' in settled) return sendEnded(request, settled.ended);
    state = settled;
    // A plain request gets the playlist as it is at the deadline; a blocking one, 503.
    if (!ready && msn !== undefined) {
      sendError(request.res, 503, `part ${msn}.${part ?? 0} did not appear within ${BLOCK_TARGETS} target durations`, {
        'Retry-After': String(state.targetDuration),
      });
      return true;
    }
  }
  const playlist = lowLatencyPlaylistWithToken(state.edge.playlist, request.playback?.token);
  const skipped = query.skip ? skippableSegments(playlist.segments, playlist.pendingParts, playlist.serverControl.canSkipUntil!) : 0;
  const text = serializeLowLatencyPlaylist({ ...playlist, skippedSegments: skipped });
  // A blocking answer names a moment that exists, so caches may keep it briefly (the URL changes with each moment).
  const cacheControl = msn !== undefined ? `public, max-age=${state.targetDuration}` : 'no-cache';
  const headers = { 'Content-Type': MPEGURL, 'Cache-Control': cacheControl };
  sendPlaylist(request.req, request.res, text, headers, acceptsGzip(request.req) ? { gzipped: gzipOnce(text) } : {});
  return true;
}

function sendEnded(request: RouteRequest, playlist: MediaPlaylist): true {
  const text = serializeMediaPlaylist(mediaPlaylistWithToken(playlist, request.playback?.token));
  const headers = { 'Content-Type': MPEGURL, 'Cache-Control': 'no-cache' };
  sendPlaylist(request.req, request.res, text, headers, acceptsGzip(request.req) ? { gzipped: gzipOnce(text) } : {});
  return true;
}

const PART_FILE = /^(\d{1,9})\.(\d{1,6})\.(ts|m4s)$/;
const SEGMENT_FILE = /^(\d{1,9})\.(ts|m4s)$/;

/** Streams the concatenated bytes of `cids` (one part, or a segment's parts in order). */
async function streamCids(request: RouteRequest, cids: readonly string[], contentType: string, cacheControl: string): Promise<void> {
  const { store } = request.server;
  const sizes = await Promise.all(cids.map((cid) => store.size(cid)));
  request.res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': String(sizes.reduce((a, b) => a + b, 0)),
    'Cache-Control': cacheControl,
  });
  if (request.req.method === 'HEAD') {
    request.res.end();
    return;
  }
  async function* bytes() {
    for (const cid of cids) yield* store.catStream(cid);
  }
  try {
    await pipeline(Readable.from(bytes()), request.res);
  } catch (error) {
    // hls.js aborts part loads it no longer needs (a level switch, a seek): not a server failure.
    if ((error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' && request.res.destroyed) return;
    throw error;
  }
}

/**
 * A part URI. A stored part streams at once (immutable); the part right after
 * the newest one (the preload hint) is waited for, up to 3 target durations;
 * anything else is 404.
 */
async function servePart(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const match = PART_FILE.exec(request.params.file);
  if (!match) return sendError(request.res, 400, 'Invalid part name: expected {msn}.{part}.ts or .m4s');
  const [msn, index] = [Number(match[1]), Number(match[2])];
  const ext = match[3] as PartContainer;
  const { registry } = request.server;
  let stored = await registry.getPart(runId, name, msn, index);
  if (!stored) {
    const run = await registry.getRun(runId);
    const newest = run && (await registry.latestParts(runId))[name];
    const isNext =
      newest !== undefined &&
      ((newest.segmentIndex === msn && newest.partIndex + 1 === index) || (newest.segmentIndex + 1 === msn && index === 0));
    if (!run || !isNext) return sendError(request.res, 404, `No part ${msn}.${index} of ${name} in run ${runId}`);
    await waitForChange({
      registry,
      runId,
      relevant: (change) => change.rendition === name,
      res: request.res,
      timeoutMs: BLOCK_TARGETS * targetDurationFor(run.segmentDuration) * 1000,
      ready: async () => {
        stored = await registry.getPart(runId, name, msn, index);
        if (stored) return true;
        // Once a later part exists this one never will (the segment ended before it).
        const latest = (await registry.latestParts(runId))[name];
        return latest !== undefined && (latest.segmentIndex > msn || (latest.segmentIndex === msn && latest.partIndex > index));
      },
    });
    if (request.res.destroyed) return;
    if (!stored) return sendError(request.res, 404, `No part ${msn}.${index} of ${name} in run ${runId}`);
  }
  await streamCids(request, [stored.cid], CONTENT_TYPES[ext], IMMUTABLE);
}

/** A segment finished after the newest publish: from its recorded CID, or its parts in order. */
async function serveSegment(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const match = SEGMENT_FILE.exec(request.params.file);
  if (!match) return sendError(request.res, 400, 'Invalid segment name: expected {msn}.ts or .m4s');
  const msn = Number(match[1]);
  const ext = match[2] as PartContainer;
  const { registry } = request.server;
  const segment = await registry.getSegment(runId, name, msn);
  if (segment) return streamCids(request, [segment.cid], CONTENT_TYPES[ext], IMMUTABLE);
  if (request.playback?.private) {
    // Encrypted parts are whole resources of their own: their concatenation is not the segment. Serve the
    // segment's own ciphertext, waiting (as for a hinted part) while its upload finishes.
    const run = await registry.getRun(runId);
    const complete = run && (await registry.getPart(runId, name, msn + 1, 0));
    if (!run || !complete) return sendError(request.res, 404, `No complete segment ${msn} of ${name} in run ${runId}`);
    await waitForChange({
      registry, runId, res: request.res,
      relevant: (change) => change.rendition === name,
      timeoutMs: BLOCK_TARGETS * targetDurationFor(run.segmentDuration) * 1000,
      ready: async () => (await registry.getSegment(runId, name, msn)) !== undefined,
    });
    if (request.res.destroyed) return;
    const stored = await registry.getSegment(runId, name, msn);
    if (!stored) return sendError(request.res, 503, `segment ${msn} of ${name} is not stored yet`, { 'Retry-After': '1' });
    return streamCids(request, [stored.cid], CONTENT_TYPES[ext], IMMUTABLE);
  }
  // Complete once the next segment has begun; its parts are then all recorded.
  const [parts, next] = await Promise.all([registry.listRecentParts(runId, name, msn), registry.getPart(runId, name, msn + 1, 0)]);
  const own = parts.filter((part) => part.segmentIndex === msn);
  if (!next || own.length === 0 || own.some((part, i) => part.partIndex !== i)) {
    return sendError(request.res, 404, `No complete segment ${msn} of ${name} in run ${runId}`);
  }
  await streamCids(request, own.map((part) => part.cid), CONTENT_TYPES[ext], IMMUTABLE);
}

export const lowLatencyRoutes: Route[] = [
  { pattern: '/runs/:id/quality/:name/part/:file', handler: playbackRoute(servePart), cors: true },
  { pattern: '/runs/:id/quality/:name/segment/:file', handler: playbackRoute(serveSegment), cors: true },
];
