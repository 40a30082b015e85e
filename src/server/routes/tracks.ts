// What a run offers beside its variants, served like them: the master's EXT-X-MEDIA subtitle
// renditions, EXT-X-I-FRAME-STREAM-INF and EXT-X-IMAGE-STREAM-INF (playlists.ts) point here, and
// each route answers with the newest playlist (or thumbnail track) the registry names
// (runs.tracks), never cached, never a redirect to a CID.
import type { RunTracks } from '../../model/run-tracks.js';
import { StoreUnavailableError } from '../../store/content-store.js';
import { MPEGURL, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { qualityParam, runIdParam } from '../validation.js';

export const subtitlePlaylistPath = (runId: string, name: string) => `/runs/${runId}/subtitles/${name}/playlist.m3u8`;
export const iframePlaylistPath = (runId: string, name: string) => `/runs/${runId}/iframes/${name}/playlist.m3u8`;
export const imagePlaylistPath = (runId: string) => `/runs/${runId}/images/playlist.m3u8`;
export const thumbnailTrackPath = (runId: string) => `/runs/${runId}/thumbnails.vtt`;

const WEBVTT = 'text/vtt; charset=utf-8';

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
  // The run's live model: no SQL per request, kept current by the registry's change feed.
  const run = await request.server.live.run(runId);
  if (!run) {
    sendError(request.res, 404, `No run ${runId}`);
    return undefined;
  }
  return { runId, tracks: run.record.tracks };
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
