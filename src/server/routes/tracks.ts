// What a run offers beside its variants, served like them: the master's EXT-X-MEDIA subtitle
// renditions (SUBTITLES= on every variant), EXT-X-I-FRAME-STREAM-INF and EXT-X-IMAGE-STREAM-INF
// point at this server, and each route answers with the newest playlist (or thumbnail track)
// the registry names (runs.tracks), never cached, never a redirect to a CID.
import type { IframeStream, ImageStream, MediaRendition } from '../../hls/types.js';
import { SUBTITLE_GROUP_ID, type RunTracks } from '../../model/run-tracks.js';
import { StoreUnavailableError } from '../../store/content-store.js';
import { MPEGURL, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { qualityParam, runIdParam } from '../validation.js';

export const subtitlePlaylistPath = (runId: string, name: string) => `/runs/${runId}/subtitles/${name}/playlist.m3u8`;
export const iframePlaylistPath = (runId: string, name: string) => `/runs/${runId}/iframes/${name}/playlist.m3u8`;
export const imagePlaylistPath = (runId: string) => `/runs/${runId}/images/playlist.m3u8`;
export const thumbnailTrackPath = (runId: string) => `/runs/${runId}/thumbnails.vtt`;

const WEBVTT = 'text/vtt; charset=utf-8';

/** The master's entries for a run's tracks, with this server's URLs. */
export interface MasterCompanions {
  media: MediaRendition[];
  subtitlesGroup?: string;
  iframeStreams: IframeStream[];
  imageStreams: ImageStream[];
}

/** Names in byte order: the registry's JSONB keeps no key order, the master must. */
const byName = <T>(record: Record<string, T> | undefined) =>
  Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

export function masterCompanions(runId: string, tracks: RunTracks, renditionOrder: readonly string[]): MasterCompanions {
  // The default track first, then by name.
  const subtitles = byName(tracks.subtitles).sort(([, a], [, b]) => Number(b.default) - Number(a.default));
  const media: MediaRendition[] = subtitles.map(([name, track]) => ({
    type: 'SUBTITLES', groupId: SUBTITLE_GROUP_ID, name: track.name, language: track.language,
    default: track.default, autoselect: true, uri: subtitlePlaylistPath(runId, name),
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

/** Answers with the stored text of `cid` (or 404 with `missing` when there is none). */
async function serveStored(request: RouteRequest, cid: string | undefined, missing: string, contentType: string): Promise<void> {
  if (cid === undefined) return sendError(request.res, 404, missing);
  const { playlists, logger } = request.server;
  let stored;
  try {
    stored = await playlists.get(cid);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    logger.error({ err: error, cid }, 'track cannot be read from the store');
    return sendError(request.res, 502, `${cid} unavailable`);
  }
  sendPlaylist(request.req, request.res, stored.text, { 'Content-Type': contentType, 'Cache-Control': 'no-cache' }, { etag: cid, gzipped: stored.gzip });
}

async function runTracks(request: RouteRequest): Promise<{ runId: string; tracks: RunTracks } | undefined> {
  const runId = runIdParam(request);
  if (runId === undefined) return undefined;
  const run = await request.server.registry.getRun(runId);
  if (!run) {
    sendError(request.res, 404, `No run ${runId}`);
    return undefined;
  }
  return { runId, tracks: run.tracks };
}

async function subtitles(request: RouteRequest): Promise<void> {
  const found = await runTracks(request);
  const name = found && qualityParam(request);
  if (!found || name === undefined) return;
  const track = Object.hasOwn(found.tracks.subtitles ?? {}, name) ? found.tracks.subtitles![name] : undefined;
  return serveStored(request, track?.cid, `Run ${found.runId} has no subtitle track ${name}`, MPEGURL);
}

async function iframes(request: RouteRequest): Promise<void> {
  const found = await runTracks(request);
  const name = found && qualityParam(request);
  if (!found || name === undefined) return;
  const track = Object.hasOwn(found.tracks.iframes ?? {}, name) ? found.tracks.iframes![name] : undefined;
  return serveStored(request, track?.cid, `Run ${found.runId} has no I-frame playlist for ${name}`, MPEGURL);
}

async function images(request: RouteRequest): Promise<void> {
  const found = await runTracks(request);
  if (!found) return;
  return serveStored(request, found.tracks.images?.cid, `Run ${found.runId} has no thumbnails`, MPEGURL);
}

async function thumbnails(request: RouteRequest): Promise<void> {
  const found = await runTracks(request);
  if (!found) return;
  return serveStored(request, found.tracks.images?.vttCid, `Run ${found.runId} has no thumbnails`, WEBVTT);
}

export const trackRoutes: Route[] = [
  { pattern: '/runs/:id/subtitles/:name/playlist.m3u8', handler: subtitles, cors: true },
  { pattern: '/runs/:id/iframes/:name/playlist.m3u8', handler: iframes, cors: true },
  { pattern: '/runs/:id/images/playlist.m3u8', handler: images, cors: true },
  { pattern: '/runs/:id/thumbnails.vtt', handler: thumbnails, cors: true },
];
