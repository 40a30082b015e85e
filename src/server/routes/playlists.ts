// The two playlist routes a live player polls. hls.js reads the master once and
// then re-fetches the variant URIs it found there; if those were IPFS CIDs (each
// naming one immutable version) a live viewer would never see a new segment. So
// the master served here points at this server, and each variant URL answers
// with the newest media playlist the registry knows (as the process's live
// model of the run has it, kept current by the registry's change feed), never
// cached, never redirected to a CID URL (gateways cache /ipfs/ answers forever).
import { serializeMasterPlaylist } from '../../hls/master-playlist.js';
import type { IframeStream, ImageStream, MediaRendition, VariantStream } from '../../hls/types.js';
import { SUBTITLE_GROUP_ID, type RunTracks } from '../../model/run-tracks.js';
import { orderVariants } from '../../model/variant-stream-record.js';
import type { RunRecord } from '../../registry/run-records.js';
import { StoreUnavailableError } from '../../store/content-store.js';
import { MPEGURL, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { MASTER_WAIT_MS } from '../start-rules.js';
import { qualityParam, runIdParam } from '../validation.js';
import { sendHeldLimit, serveLowLatencyPlaylist } from './low-latency.js';
import { serializeMediaPlaylist } from '../../hls/media-playlist.js';
import { numberedSegments } from '../live-edge.js';
import { mediaPlaylistWithToken, playbackRoute, variantsWithToken } from '../playback-access.js';
import { parsedPlaylist } from '../playlist-cache.js';
import { iframePlaylistPath, imagePlaylistPath, subtitlePlaylistPath } from './tracks.js';

export const qualityPlaylistPath = (runId: string, name: string) => `/runs/${runId}/quality/${name}/playlist.m3u8`;

function masterVariants(runId: string, run: RunRecord, basePath?: string): VariantStream[] {
  return orderVariants(run.qualityPlaylists)
    .filter(([, info]) => info.codecs.length > 0)
    .map(([name, info]) => ({
      uri: basePath === undefined ? qualityPlaylistPath(runId, name) : `${basePath}/quality/${name}/playlist.m3u8`,
      bandwidth: Math.max(1, Math.round(info.bandwidth)),
      ...(info.averageBandwidth >= 1 ? { averageBandwidth: Math.round(info.averageBandwidth) } : {}),
      codecs: info.codecs,
      resolution: { width: info.width, height: info.height },
      frameRate: info.frameRate,
      name,
    }));
}

/** The master's entries for a run's tracks, with this server's URLs. */
interface MasterCompanions {
  media: MediaRendition[];
  subtitlesGroup?: string;
  iframeStreams: IframeStream[];
  imageStreams: ImageStream[];
}

/** Names in byte order: the registry's JSONB keeps no key order, the master must. */
const byName = <T>(record: Record<string, T> | undefined) =>
  Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * `lowLatency` (a run with parts): subtitle tracks are served by the LL-HLS route, from their
 * WebVTT parts, so a cue shows within a part target of its time; otherwise by their newest playlist.
 */
function masterCompanions(runId: string, tracks: RunTracks, renditionOrder: readonly string[], lowLatency = false): MasterCompanions {
  // The default track first, then by name.
  const subtitles = byName(tracks.subtitles).sort(([, a], [, b]) => Number(b.default) - Number(a.default));
  const media: MediaRendition[] = subtitles.map(([name, track]) => ({
    type: 'SUBTITLES', groupId: SUBTITLE_GROUP_ID, name: track.name, language: track.language,
    default: track.default, autoselect: true, uri: lowLatency ? qualityPlaylistPath(runId, name) : subtitlePlaylistPath(runId, name),
  }));
  // I-frame streams in the variants' order.
  const iframes = byName(tracks.iframes).sort(([a], [b]) => renditionOrder.indexOf(a) - renditionOrder.indexOf(b));
  const iframeStreams: IframeStream[] = iframes.map(([name, track]) => ({
    uri: iframePlaylistPath(runId, name), bandwidth: track.bandwidth, averageBandwidth: track.averageBandwidth,
    codecs: track.codecs, resolution: { width: track.width, height: track.height },
  }));
  const images = tracks.images;
  const imageStreams: ImageStream[] = images
    ? [{ uri: imagePlaylistPath(runId), bandwidth: images.bandwidth, resolution: { width: images.width, height: images.height }, codecs: images.codecs }]
    : [];
  return { media, ...(media.length > 0 ? { subtitlesGroup: SUBTITLE_GROUP_ID } : {}), iframeStreams, imageStreams };
}

/** The master, from the run's live model (no SQL per request); held for a live run's first publish. */
async function master(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const run = await request.server.live.run(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  let variants = masterVariants(runId, run.record, request.basePath);
  if (variants.length === 0 && run.record.status === 'live') {
    const published = (record: RunRecord) => masterVariants(runId, record).length > 0 || record.status !== 'live';
    const held = await request.server.held.hold(() => run.waitForRecord(published, MASTER_WAIT_MS, request.res));
    if (!held) return sendHeldLimit(request);
    if (request.res.destroyed) return;
    variants = masterVariants(runId, run.record, request.basePath);
  }
  // Still nothing to play (a run that never published); the watch page retries.
  if (variants.length === 0) return sendError(request.res, 404, `Run ${runId} has not published playlists yet`);
  variants = variantsWithToken(variants, request.playback?.token);
  // Subtitles, I-frame and image streams, when the run has them (runs.tracks).
  const companions = masterCompanions(runId, run.record.tracks, variants.map((variant) => variant.name), run.record.partTarget !== null);
  const text = serializeMasterPlaylist({
    independentSegments: true,
    media: companions.media,
    variants: companions.subtitlesGroup ? variants.map((variant) => ({ ...variant, subtitles: companions.subtitlesGroup })) : variants,
    iframeStreams: companions.iframeStreams,
    imageStreams: companions.imageStreams,
  });
  sendPlaylist(request.req, request.res, text, {
    'Content-Type': MPEGURL,
    'Cache-Control': 'no-cache',
  });
}

/** A media playlist: LL-HLS from the rendition's live model, or the newest published one (by its CID, from the cache). */
async function quality(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const { live, playlists, logger } = request.server;
  const run = await live.run(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  // Only a run with parts (a part target) has a live model per rendition.
  const model = await run.rendition(name);
  if (model && (await serveLowLatencyPlaylist(request, model))) return;
  const info = Object.hasOwn(run.record.qualityPlaylists, name) ? run.record.qualityPlaylists[name] : undefined;
  if (!info) return sendError(request.res, 404, `Run ${runId} has no quality ${name}`);
  let playlist;
  try {
    playlist = await playlists.get(info.cid);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    // The store is up but lacks (or cannot read) the CID the registry names.
    logger.error({ err: error, runId, quality: name, cid: info.cid }, 'playlist cannot be read from the store');
    return sendError(request.res, 502, `playlist ${info.cid} unavailable`);
  }
  if (request.playback?.private) {
    // A private run's segments by number (segment/{msn}.ts or .m4s, as an LL run lists them): ciphertext
    // cannot be sniffed, so a player that tells the container from the URI (Shaka) needs the extension.
    // Every URI but the CIDs' carries the request's token, so there is no shared ETag.
    const published = parsedPlaylist(playlist);
    const bySegmentNumber = numberedSegments(published, published.mapUri !== undefined ? 'm4s' : 'ts');
    const text = serializeMediaPlaylist(mediaPlaylistWithToken(bySegmentNumber, request.playback.token));
    return sendPlaylist(request.req, request.res, text, { 'Content-Type': MPEGURL, 'Cache-Control': 'private, no-cache' });
  }
  // The ETag lets a poller revalidate cheaply; no-cache makes every poll ask.
  sendPlaylist(request.req, request.res, playlist.text, { 'Content-Type': MPEGURL, 'Cache-Control': 'no-cache' }, {
    etag: info.cid,
    gzipped: playlist.gzip,
  });
}

export const playlistRoutes: Route[] = [
  { pattern: '/runs/:id/master.m3u8', handler: playbackRoute(master), cors: true },
  { pattern: '/runs/:id/quality/:name/playlist.m3u8', handler: playbackRoute(quality), cors: true },
];
