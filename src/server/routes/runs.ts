// Run status as JSON, for people and scripts: what is live, what each quality
// has published, and how many segments the registry recorded.
import { ContiguousSegments } from '../../hls/contiguous-segments.js';
import type { RunRecord, SegmentRecord } from '../../registry/run-registry.js';
import { sendError, sendJson } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { runIdParam } from '../validation.js';
import { orderQualities, qualityPlaylistPath } from './playlists.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 1000;

function runSummary(run: RunRecord) {
  return {
    id: run.id,
    status: run.status,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
    width: run.width,
    height: run.height,
    fps: run.fps,
    segmentDuration: run.segmentDuration,
    masterCid: run.masterCid,
    playlistSequence: run.playlistSequence,
    error: run.error,
    qualities: orderQualities(run.qualityPlaylists).map(([name]) => name),
    urls: { master: `/runs/${run.id}/master.m3u8`, watch: `/runs/${run.id}/watch`, status: `/runs/${run.id}` },
  };
}

/** Recorded segments per rendition, and how many of them form the playable prefix 0..k-1. */
function segmentCounts(segments: SegmentRecord[]): Record<string, { recorded: number; contiguous: number }> {
  const byRendition = new Map<string, ContiguousSegments>();
  const recorded = new Map<string, number>();
  for (const segment of segments) {
    recorded.set(segment.rendition, (recorded.get(segment.rendition) ?? 0) + 1);
    if (!(segment.duration > 0)) continue;
    let prefix = byRendition.get(segment.rendition);
    if (!prefix) byRendition.set(segment.rendition, (prefix = new ContiguousSegments()));
    prefix.add({ index: segment.index, cid: segment.cid, duration: segment.duration, bytes: segment.bytes });
  }
  return Object.fromEntries(
    [...recorded].map(([name, count]) => [name, { recorded: count, contiguous: byRendition.get(name)?.listedCount ?? 0 }]),
  );
}

async function listRuns({ res, url, server }: RouteRequest): Promise<void> {
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? DEFAULT_LIST_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    return sendError(res, 400, `limit must be an integer between 1 and ${MAX_LIST_LIMIT}`);
  }
  const runs = await server.registry.listRuns({ limit });
  sendJson(res, 200, { runs: runs.map(runSummary) });
}

async function runStatus(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const { registry } = request.server;
  const run = await registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  const counts = segmentCounts(await registry.listSegments(runId));
  const qualities = orderQualities(run.qualityPlaylists).map(([name, info]) => ({
    name,
    ...info,
    playlist: qualityPlaylistPath(runId, name),
    segments: counts[name] ?? { recorded: 0, contiguous: 0 },
  }));
  const totalSegments = Object.values(counts).reduce((sum, count) => sum + count.recorded, 0);
  sendJson(request.res, 200, { ...runSummary(run), qualities, segments: { total: totalSegments, byRendition: counts } });
}

export const runRoutes: Route[] = [
  { pattern: '/runs', handler: listRuns },
  { pattern: '/runs/:id', handler: runStatus },
];
