// The two playlist routes a live player polls. hls.js reads the master once and
// then re-fetches the variant URIs it found there; if those were IPFS CIDs (each
// naming one immutable version) a live viewer would never see a new segment. So
// the master served here points at this server, and each variant URL answers
// with the newest media playlist the registry knows, never cached, never
// redirected to a CID URL (gateways cache /ipfs/ answers forever).
import { serializeMasterPlaylist } from '../../hls/master-playlist.js';
import type { VariantStream } from '../../hls/types.js';
import { orderVariants } from '../../model/variant-stream-record.js';
import type { RunRecord } from '../../registry/run-records.js';
import { waitForChange } from '../wait-for-change.js';
import { StoreUnavailableError } from '../../store/content-store.js';
import { MPEGURL, sendError, sendPlaylist } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { qualityParam, runIdParam } from '../validation.js';
import { serveLowLatencyPlaylist } from './low-latency.js';
import { masterCompanions } from './tracks.js';

export const qualityPlaylistPath = (runId: string, name: string) => `/runs/${runId}/quality/${name}/playlist.m3u8`;

/**
 * How long a master request for a live run that has not published yet is held
 * (fast start: a player that asks at launch gets the master the moment the
 * first publish lands, instead of a 404 and a retry seconds later).
 */
export const MASTER_WAIT_MS = 5000;

function masterVariants(runId: string, run: RunRecord): VariantStream[] {
  return orderVariants(run.qualityPlaylists)
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
}

async function master(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const { registry } = request.server;
  let run = await registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  let variants = masterVariants(runId, run);
  if (variants.length === 0 && run.status === 'live') {
    // Woken by the publish (the registry announces it), re-checked on a timer as well.
    await waitForChange({
      registry,
      runId,
      res: request.res,
      timeoutMs: MASTER_WAIT_MS,
      ready: async () => {
        run = (await registry.getRun(runId)) ?? run;
        variants = masterVariants(runId, run!);
        return variants.length > 0 || run!.status !== 'live';
      },
    });
    if (request.res.destroyed) return;
  }
  // Still nothing to play (a run that never published); the watch page retries.
  if (variants.length === 0) return sendError(request.res, 404, `Run ${runId} has not published playlists yet`);
  // Subtitles, I-frame and image streams, when the run has them (runs.tracks).
  const companions = masterCompanions(runId, run!.tracks, variants.map((variant) => variant.name));
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

async function quality(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const name = qualityParam(request);
  if (name === undefined) return;
  const { registry, playlists, logger } = request.server;
  const state = await registry.getQualityState(runId, name);
  if (!state) return sendError(request.res, 404, `No run ${runId}`);
  const info = state.playlist;
  // Only a run with parts (a part target) pays for the LL-HLS reads.
  if (state.partTarget !== null && (await serveLowLatencyPlaylist(request, runId, name, info))) return;
  if (!info) {
    return sendError(request.res, 404, `Run ${runId} has no quality ${name}`);
  }
  let playlist;
  try {
    playlist = await playlists.get(info.cid);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    // The store is up but lacks (or cannot read) the CID the registry names.
    logger.error({ err: error, runId, quality: name, cid: info.cid }, 'playlist cannot be read from the store');
    return sendError(request.res, 502, `playlist ${info.cid} unavailable`);
  }
  // The ETag lets a poller revalidate cheaply; no-cache makes every poll ask.
  sendPlaylist(request.req, request.res, playlist.text, { 'Content-Type': MPEGURL, 'Cache-Control': 'no-cache' }, {
    etag: info.cid,
    gzipped: playlist.gzip,
  });
}

export const playlistRoutes: Route[] = [
  { pattern: '/runs/:id/master.m3u8', handler: master, cors: true },
  { pattern: '/runs/:id/quality/:name/playlist.m3u8', handler: quality, cors: true },
];
