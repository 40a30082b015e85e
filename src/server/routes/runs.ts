// Run status as JSON, for people and scripts: what is live, what each quality
// has published, and how many segments the registry recorded. Every answer
// costs the same whatever the run's length: counts come from the registry's
// per-rendition counters, never from its segment rows.
import { isStalled } from '../../model/heartbeat.js';
import type { ArchiveRecord, RunRecord } from '../../registry/run-records.js';
import { sendError, sendJson } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { runIdParam } from '../validation.js';
import { orderVariants } from '../../model/variant-stream-record.js';
import { qualityPlaylistPath } from './playlists.js';
import { playbackRoute } from '../playback-access.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 1000;
/** The detail lists at most this many missing segments (and says how many there are). */
const MAX_LISTED_MISSING = 100;
/** The detail lists the newest this many archive chunks (a day of hours); /runs/{id}/archive lists them all. */
const MAX_LISTED_ARCHIVE = 24;

// A run's error is written by the publisher for its operator: it may name the
// Kubo URL or a spool path. Clients see it with those taken out.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>,;)]+/gi;
const PATH_IN_TEXT = /(^|[\s("'=])(?:~|\.{1,2})?\/(?:[^\s/"'<>,;)]+\/)*[^\s/"'<>,;)]+/g;

export function publicRunError(error: string | null): string | null {
  if (error === null) return null;
  return error.replace(URL_IN_TEXT, '<url>').replace(PATH_IN_TEXT, '$1<path>');
}

/** One archive chunk for clients: its VOD master on this server's gateway. */
export function archiveEntry(chunk: ArchiveRecord) {
  return {
    firstMediaSequence: chunk.firstMsn,
    segments: chunk.segmentCount,
    duration: chunk.duration,
    startedAt: chunk.startedAt.toISOString(),
    masterCid: chunk.masterCid,
    master: `/ipfs/${chunk.masterCid}`,
  };
}

export function runSummary(run: RunRecord) {
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
    startedAt: run.startedAt?.toISOString() ?? null,
    playlistSequence: run.playlistSequence,
    error: publicRunError(run.error),
    qualities: orderVariants(run.qualityPlaylists).map(([name]) => name),
    private: run.encryption !== null,
    stalled: isStalled(run),
    heartbeatAt: run.heartbeatAt?.toISOString() ?? null,
    windowSeconds: run.windowSeconds,
    channel: run.channel,
    previousRunId: run.previousRunId,
    firstMediaSequence: run.msnBase,
    urls: {
      master: `/runs/${run.id}/master.m3u8`, watch: `/runs/${run.id}/watch`, status: `/runs/${run.id}`,
      ...(run.windowSeconds !== null ? { archive: `/runs/${run.id}/archive` } : {}),
      ...(run.channel !== null ? { channel: `/channels/${run.channel}/watch` } : {}),
    },
  };
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
  const run = request.run !== undefined ? request.run : await registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  const counts = run.segmentCounts;
  const qualities = orderVariants(run.qualityPlaylists).map(([name, info]) => ({
    name,
    ...info,
    playlist: qualityPlaylistPath(runId, name),
    segments: counts[name] ?? { recorded: 0, contiguous: 0 },
  }));
  const totalSegments = Object.values(counts).reduce((sum, count) => sum + count.recorded, 0);
  const archive = run.windowSeconds === null ? [] : await registry.listArchives(runId);
  sendJson(request.res, 200, {
    ...runSummary(run),
    qualities,
    segments: { total: totalSegments, byRendition: counts },
    // What the run offers beside its variants (subtitle segments are counted above under their track).
    tracks: {
      subtitles: Object.keys(run.tracks.subtitles ?? {}).sort(),
      iframePlaylists: Object.keys(run.tracks.iframes ?? {}).sort(),
      thumbnails: run.tracks.images?.count ?? 0,
      dateRanges: run.tracks.dateRanges?.length ?? 0,
    },
    missing: { count: run.missing.length, first: run.missing.slice(0, MAX_LISTED_MISSING) },
    archive: { count: archive.length, newest: archive.slice(-MAX_LISTED_ARCHIVE).map(archiveEntry) },
  });
}

/** Every archive chunk of a windowed run, oldest first: the DVR's list. */
async function runArchive(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const { registry } = request.server;
  const run = request.run !== undefined ? request.run : await registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  sendJson(request.res, 200, { runId, chunks: (await registry.listArchives(runId)).map(archiveEntry) });
}

export const runRoutes: Route[] = [
  { pattern: '/runs', handler: listRuns, admin: true },
  { pattern: '/runs/:id', handler: playbackRoute(runStatus, 'registry') },
  { pattern: '/runs/:id/archive', handler: playbackRoute(runArchive, 'registry') },
];
