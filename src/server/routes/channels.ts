// A channel's stable URLs, /channels/{name}/…: each resolves to a run and is
// answered by that run's own handler, so a channel serves exactly what its run
// serves. Playlists (master, media, LL) come from the channel's current run: the
// newest that has published, so a producer restarting on the channel takes over
// the moment its first playlists (the previous run's tail, then its own
// segments) exist. Part and segment URIs are relative to the media playlist, so
// they arrive here too; they resolve by Media Sequence Number to the run that
// numbered that segment (a tail segment is the previous run's). The channel's
// MPD (manifest.mpd) is routes/dash.ts's, over the same current run.
import { CHANNEL_LOOKUP_TTL_MS } from '../../model/channel-handover.js';
import { isValidChannelName, CHANNEL_NAME_PATTERN } from '../../registry/validation.js';
import type { RunRecord } from '../../registry/run-records.js';
import { tokenCookie, type PlaybackGrant } from '../playback-access.js';
import { sendError, sendJson, sendText } from '../responses.js';
import type { Route, RouteHandler, RouteRequest } from '../router.js';
import { watchPageHtml } from '../watch-page.js';
import { channelManifest } from './dash.js';
import { lowLatencyRoutes } from './low-latency.js';
import { playlistRoutes } from './playlists.js';
import { archiveEntry, runSummary } from './runs.js';

const HTML = 'text/html; charset=utf-8';
/** The channel page lists this many of its newest runs. */
const LISTED_RUNS = 20;

/** The run routes a channel delegates to, by their patterns (one handler per concern, never a copy). */
function runHandler(routes: readonly Route[], pattern: string): RouteHandler {
  const route = routes.find((candidate) => candidate.pattern === pattern);
  if (!route) throw new Error(`No route ${pattern}`);
  return route.handler;
}
const masterHandler = runHandler(playlistRoutes, '/runs/:id/master.m3u8');
const qualityHandler = runHandler(playlistRoutes, '/runs/:id/quality/:name/playlist.m3u8');
const partHandler = runHandler(lowLatencyRoutes, '/runs/:id/quality/:name/part/:file');
const segmentHandler = runHandler(lowLatencyRoutes, '/runs/:id/quality/:name/segment/:file');

const currentRuns = new Map<string, { runId: string | undefined; at: number }>();

/** The channel name, or undefined after answering 400. */
function channelParam({ params, res }: RouteRequest): string | undefined {
  if (isValidChannelName(params.channel)) return params.channel;
  sendError(res, 400, `Invalid channel name: expected ${CHANNEL_NAME_PATTERN}`);
  return undefined;
}

/**
 * The run the channel's playlists come from: the newest that published (else the newest started),
 * looked up at most every CHANNEL_LOOKUP_TTL_MS per channel (a producer ends the previous run only
 * after twice that, so its ENDLIST never reaches the channel's players).
 */
async function currentRun(request: RouteRequest, channel: string): Promise<string | undefined> {
  const cached = currentRuns.get(channel);
  if (cached && performance.now() - cached.at < CHANNEL_LOOKUP_TTL_MS) return cached.runId;
  // Aged from when it was asked, not answered: a lookup slowed by a busy database still expires in time,
  // and a slow one never replaces a newer one.
  const asked = performance.now();
  const record = await request.server.registry.getChannel(channel);
  const runId = record ? (record.currentRunId ?? record.newestRunId ?? undefined) : undefined;
  if (currentRuns.size > 1000) currentRuns.clear();
  if ((currentRuns.get(channel)?.at ?? -Infinity) <= asked) currentRuns.set(channel, { runId, at: asked });
  return runId;
}

/** Answers with the channel's current run's handler, its playlists' URIs under /channels/{name}. */
function viaCurrentRun(handler: RouteHandler): RouteHandler {
  return async (request) => {
    const channel = channelParam(request);
    if (channel === undefined) return;
    const runId = await currentRun(request, channel);
    if (runId === undefined) return sendError(request.res, 404, `No channel ${channel}`);
    await handler({ ...request, params: { ...request.params, id: runId }, basePath: `/channels/${channel}` });
  };
}

/** Answers a part or segment URI with the run that numbered its Media Sequence Number. */
function viaNumberingRun(handler: RouteHandler): RouteHandler {
  return async (request) => {
    const channel = channelParam(request);
    if (channel === undefined) return;
    const msn = /^(\d{1,9})[.]/.exec(request.params.file ?? '');
    // The run's own handler answers a malformed name (400) the same way.
    const runId = msn ? await request.server.registry.channelRunForMsn(channel, Number(msn[1])) : await currentRun(request, channel);
    if (runId === undefined) return sendError(request.res, 404, `No channel ${channel}`);
    await handler({ ...request, params: { ...request.params, id: runId }, basePath: `/channels/${channel}` });
  };
}

/**
 * A private channel's status, archive and watch page, like a private run's, answer only with a token that opens its
 * current run (the channel's token; a channel's runs are all private or all public); the grant, or undefined after 401/403.
 */
function channelAccess(request: RouteRequest, channel: string, current: RunRecord | undefined): PlaybackGrant | undefined {
  if (!current) return { private: false };
  return request.server.access.authorize(request.req, request.res, request.url, current.id, { encrypted: current.encryption !== null, channel });
}

/** The channel's current run's record (the newest that published, else the newest). */
async function currentRecord(request: RouteRequest, record: { currentRunId: string | null; newestRunId: string | null }): Promise<RunRecord | undefined> {
  const id = record.currentRunId ?? record.newestRunId;
  return id === null ? undefined : request.server.registry.getRun(id);
}

/** The channel's MPD (LL-DASH), from its current run: routes/dash.ts. */
async function manifest(request: RouteRequest): Promise<void> {
  const channel = channelParam(request);
  if (channel === undefined) return;
  const runId = await currentRun(request, channel);
  if (runId === undefined) return sendError(request.res, 404, `No channel ${channel}`);
  await channelManifest(request, channel, runId);
}

async function channelStatus(request: RouteRequest): Promise<void> {
  const channel = channelParam(request);
  if (channel === undefined) return;
  const { registry } = request.server;
  const record = await registry.getChannel(channel);
  if (!record) return sendError(request.res, 404, `No channel ${channel}`);
  const runs = await registry.listChannelRuns(channel, LISTED_RUNS);
  const currentId = record.currentRunId ?? record.newestRunId;
  const current = runs.find((run) => run.id === currentId);
  if (!channelAccess(request, channel, current)) return;
  const archive = await registry.listChannelArchives(channel);
  sendJson(request.res, 200, {
    name: record.name,
    createdAt: record.createdAt.toISOString(),
    current: current ? runSummary(current) : null,
    // Live and silent past the stall bound: viewers wait until a producer continues the channel.
    stalled: current ? runSummary(current).stalled : false,
    runs: runs.map(runSummary),
    archive: { count: archive.length, newest: archive.slice(-24).map(archiveEntry) },
    urls: {
      master: `/channels/${channel}/master.m3u8`, watch: `/channels/${channel}/watch`, status: `/channels/${channel}`,
      archive: `/channels/${channel}/archive`,
    },
  });
}

async function channelArchive(request: RouteRequest): Promise<void> {
  const channel = channelParam(request);
  if (channel === undefined) return;
  const { registry } = request.server;
  const record = await registry.getChannel(channel);
  if (!record) return sendError(request.res, 404, `No channel ${channel}`);
  if (!channelAccess(request, channel, await currentRecord(request, record))) return;
  sendJson(request.res, 200, { channel, chunks: (await registry.listChannelArchives(channel)).map(archiveEntry) });
}

async function channelWatch(request: RouteRequest): Promise<void> {
  const channel = channelParam(request);
  if (channel === undefined) return;
  const record = await request.server.registry.getChannel(channel);
  if (!record) return sendError(request.res, 404, `No channel ${channel}`);
  const grant = channelAccess(request, channel, await currentRecord(request, record));
  if (!grant) return;
  // A private channel's page keeps the token in a cookie for its status requests (Path=/channels/{name}); its player
  // carries the token of the page's URL in the master URL, so every URI the server writes (keys under /runs/ too) has it.
  if (grant.token !== undefined) request.res.setHeader('Set-Cookie', tokenCookie(request, grant.token));
  if (grant.private) request.res.setHeader('Referrer-Policy', 'same-origin');
  sendText(request.res, 200, watchPageHtml({ kind: 'channel', name: channel }), HTML, grant.token !== undefined ? 'private, no-store' : 'no-cache');
}

export const channelRoutes: Route[] = [
  { pattern: '/channels/:channel', handler: channelStatus },
  { pattern: '/channels/:channel/archive', handler: channelArchive },
  { pattern: '/channels/:channel/watch', handler: channelWatch },
  { pattern: '/channels/:channel/master.m3u8', handler: viaCurrentRun(masterHandler), cors: true },
  { pattern: '/channels/:channel/manifest.mpd', handler: manifest, cors: true },
  { pattern: '/channels/:channel/quality/:name/playlist.m3u8', handler: viaCurrentRun(qualityHandler), cors: true },
  { pattern: '/channels/:channel/quality/:name/part/:file', handler: viaNumberingRun(partHandler), cors: true },
  { pattern: '/channels/:channel/quality/:name/segment/:file', handler: viaNumberingRun(segmentHandler), cors: true },
];
