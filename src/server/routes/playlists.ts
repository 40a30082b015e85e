// The two playlist routes a live player polls. hls.js reads the master once and
// then re-fetches the variant URIs it found there; if those were IPFS CIDs (each
// naming one immutable version) a live viewer would never see a new segment. So
// the master served here points at this server, and each variant URL answers
// with the newest media playlist the registry knows, never cached, never
// redirected to a CID URL (gateways cache /ipfs/ answers forever).
import { serializeMasterPlaylist } from '../../hls/master-playlist.js';
import type { VariantStream } from '../../hls/types.js';
import type { QualityPlaylistInfo } from '../../registry/run-registry.js';
import { MPEGURL, send, sendError } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { qualityParam, runIdParam } from '../validation.js';

export const qualityPlaylistPath = (runId: string, name: string) => `/runs/${runId}/quality/${name}/playlist.m3u8`;

/**
 * Highest configured bitrate first, then larger picture, then name. Configured
 * values never change during a run (measured BANDWIDTH does), and the registry's
 * JSONB column does not keep key order, so this is what keeps the order stable.
 */
export function orderQualities(qualities: Record<string, QualityPlaylistInfo>): [string, QualityPlaylistInfo][] {
  return Object.entries(qualities).sort(
    ([nameA, a], [nameB, b]) =>
      b.bitrate - a.bitrate || b.width * b.height - a.width * a.height || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0),
  );
}

async function master(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const run = await request.server.registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  const variants: VariantStream[] = orderQualities(run.qualityPlaylists)
    .filter(([, info]) => info.codecs.length > 0)
    .map(([name, info]) => ({
      uri: qualityPlaylistPath(runId, name),
      bandwidth: Math.max(1, Math.round(info.bandwidth)),
      ...(info.averageBandwidth >= 1 ? { averageBandwidth: Math.round(info.averageBandwidth) } : {}),
      codecs: info.codecs,
      resolution: { width: info.width, height: info.height },
      frameRate: info.frameRate,
      name,
    }));
  // Before the first publish there is nothing to play yet; the watch page retries.
  if (variants.length === 0) return sendError(request.res, 404, `Run ${runId} has not published playlists yet`);
  send(request.res, 200, serializeMasterPlaylist({ independentSegments: true, variants }), {
    'Content-Type': MPEGURL,
    'Cache-Control': 'no-cache',
  });
}

async function quality(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const { registry, playlists } = request.server;
  const info = await registry.getQualityPlaylist(runId, name);
  if (!info) {
    const exists = (await registry.getRun(runId)) !== undefined;
    return sendError(request.res, 404, exists ? `Run ${runId} has no quality ${name}` : `No run ${runId}`);
  }
  let text: string;
  try {
    text = await playlists.get(info.cid);
  } catch (error) {
    return sendError(request.res, 502, `Playlist ${info.cid} cannot be read from the store: ${(error as Error).message}`);
  }
  // The ETag lets a poller revalidate cheaply; no-cache makes every poll ask.
  const etag = `"${info.cid}"`;
  const headers = { 'Content-Type': MPEGURL, 'Cache-Control': 'no-cache', ETag: etag };
  if (request.req.headers['if-none-match'] === etag) {
    request.res.writeHead(304, headers);
    request.res.end();
    return;
  }
  send(request.res, 200, text, headers);
}

export const playlistRoutes: Route[] = [
  { pattern: '/runs/:id/master.m3u8', handler: master },
  { pattern: '/runs/:id/quality/:name/playlist.m3u8', handler: quality },
];
