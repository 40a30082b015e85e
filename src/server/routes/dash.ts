// LL-DASH from the same CMAF bytes as LL-HLS: the MPD of an fMP4 run with
// parts, and of a channel of such runs (src/server/live-mpd.ts builds them
// from the runs' live models, no SQL per request), and the clock its UTCTiming names. Its segment URLs are the
// LL-HLS segment URIs (routes/low-latency.ts), which send the segment being
// written part by part.
import { gzipSync } from 'node:zlib';
import { serializeMpd, MPD_CONTENT_TYPE } from '../../dash/mpd.js';
import type { Mpd } from '../../dash/types.js';
import { SEGMENT_PTS_OFFSET_S } from '../../encoder/types.js';
import { totalDuration } from '../../hls/media-playlist.js';
import { orderVariants } from '../../model/variant-stream-record.js';
import type { RunRecord } from '../../registry/run-records.js';
import { segmentUri } from '../live-edge.js';
import type { LiveRun } from '../live-runs.js';
import { CHANNEL_AVAILABILITY_START, channelMpd, liveMpd, TIME_PATH, type MpdPeriodInput, type MpdRendition } from '../live-mpd.js';
import { sendError, sendPlaylist, sendText } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { playbackRoute } from '../playback-access.js';
import { MASTER_WAIT_MS } from '../start-rules.js';
import { runIdParam } from '../validation.js';
import { sendHeldLimit } from './low-latency.js';

export const mpdPath = (runId: string) => `/runs/${runId}/manifest.mpd`;

/** The renditions the MPD lists (those with codecs, highest bandwidth first), or why there is no MPD (a 404's message). */
function mpdRenditions(run: LiveRun): MpdRendition[] | string {
  const record = run.record;
  const variants = orderVariants(record.qualityPlaylists).filter(([, info]) => info.codecs.length > 0);
  if (variants.length === 0) return `Run ${run.runId} has not published playlists yet`;
  if (variants.every(([name]) => run.init(name) === undefined)) {
    return `Run ${run.runId} is MPEG-TS: DASH needs CMAF (fMP4) segments (abrcast encode/demo --container fmp4)`;
  }
  if (record.partTarget === null) return `Run ${run.runId} has no parts: DASH is served for runs with LL-HLS parts (--low-latency)`;
  if (record.startedAt === null) return `Run ${run.runId} has not started yet`;
  const renditions: MpdRendition[] = [];
  for (const [name, info] of variants) {
    const init = run.init(name);
    if (init === undefined) return `Run ${run.runId} has no init segment for ${name} yet`;
    renditions.push({
      name,
      bandwidth: info.bandwidth,
      codecs: info.codecs,
      width: info.width,
      height: info.height,
      frameRate: info.frameRate,
      initialization: `/ipfs/${init}`,
      // Relative to the MPD (/runs/{id}/manifest.mpd): the media playlist's own segment URI.
      media: `quality/${name}/${segmentUri('$Number$', 'm4s')}`,
    });
  }
  return renditions;
}

/** The presentation's duration once the run ended: the end of the last segment its final playlists list. */
async function endedDuration(run: LiveRun, names: readonly string[]): Promise<number> {
  let end = 0;
  for (const name of names) {
    const edge = (await run.rendition(name))?.edge();
    if (!edge) continue;
    const { playlist } = edge;
    // The final playlists list the run from its first Media Sequence Number (msnBase: a channel's run starts past 0).
    const before = Math.max(0, playlist.mediaSequence - run.record.msnBase);
    end = Math.max(end, before * run.record.segmentDuration + totalDuration(playlist.segments));
  }
  return end;
}

interface MpdText {
  /** publishTime in ms: the MPD's version. */
  version: number;
  text: string;
  gzip?: Buffer;
}

/** The text of the newest version of each record's MPD, built once for everyone who asks within it. */
const texts = new WeakMap<RunRecord, MpdText>();
/** The same for a channel's MPD, by its current run's record. */
const channelTexts = new WeakMap<RunRecord, MpdText>();

/** Sends the MPD's text, serialized once per version (publishTime) and record. */
function sendMpd(request: RouteRequest, cache: WeakMap<RunRecord, MpdText>, record: RunRecord, mpd: Mpd): void {
  let answer = cache.get(record);
  if (answer?.version !== mpd.publishTime.getTime()) cache.set(record, (answer = { version: mpd.publishTime.getTime(), text: serializeMpd(mpd) }));
  // Fetched again every minimumUpdatePeriod by every viewer: one text and one gzip per version.
  const gzipped = (answer.gzip ??= gzipSync(answer.text));
  sendPlaylist(request.req, request.res, answer.text, { 'Content-Type': MPD_CONTENT_TYPE, 'Cache-Control': 'no-cache' }, { gzipped });
}

/**
 * The renditions of a run's MPD, held like the master while the run has not published yet (fast
 * start); a string is why there is none (a 404's message), undefined when the request was answered.
 */
async function renditionsOf(request: RouteRequest, run: LiveRun): Promise<MpdRendition[] | string | undefined> {
  const renditions = mpdRenditions(run);
  if (typeof renditions !== 'string' || run.record.status !== 'live' || run.record.playlistSequence !== 0) return renditions;
  // Fast start, as for the master: a request before the first publish is answered by it.
  const published = (record: RunRecord) => record.playlistSequence > 0 || record.status !== 'live';
  const held = await request.server.held.hold(() => run.waitForRecord(published, MASTER_WAIT_MS, request.res));
  if (!held) {
    sendHeldLimit(request);
    return undefined;
  }
  if (request.res.destroyed) return undefined;
  return mpdRenditions(run);
}

/** The MPD of one run: dynamic while it is live, static once it ended. */
async function runMpd(run: LiveRun, renditions: MpdRendition[]): Promise<Mpd> {
  const record = run.record;
  const ended = record.status !== 'live';
  return liveMpd({
    startedAt: record.startedAt!,
    firstNumber: record.msnBase,
    segmentDuration: record.segmentDuration,
    partTarget: record.partTarget!,
    ptsOffset: SEGMENT_PTS_OFFSET_S,
    renditions,
    updatedAt: record.updatedAt,
    ...(ended ? { endedDuration: await endedDuration(run, renditions.map((r) => r.name)) } : {}),
    now: new Date(),
  });
}

async function manifest(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const run = await request.server.live.run(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  // AES-128 of whole segments and parts (docs/private-streams.md) has no DASH form: DASH encrypts samples (CENC).
  if (request.playback?.private) return sendError(request.res, 404, `Run ${runId} is private: its encrypted segments are served as HLS only`);
  const renditions = await renditionsOf(request, run);
  if (renditions === undefined) return;
  if (typeof renditions === 'string') return sendError(request.res, 404, renditions);
  sendMpd(request, texts, run.record, await runMpd(run, renditions));
}

/** A channel's MPD lists at most this many runs (a window crossed by more restarts starts at the newest ones). */
const MAX_CHANNEL_PERIODS = 8;

/**
 * The Periods of a live channel whose current run is `run`: its own, after those of the runs before
 * it whose segments its media playlists still list (the tail before its first MSN), each ending
 * where its last listed segment ends (a trailing gap, an MSN it never finished, not counted).
 * From the live models only: the previous runs' are loaded once.
 */
async function channelPeriods(request: RouteRequest, run: LiveRun, renditions: MpdRendition[]): Promise<{ periods: MpdPeriodInput[]; records: RunRecord[] }> {
  const { record } = run;
  const periods: MpdPeriodInput[] = [{ id: run.runId, startedAt: record.startedAt!, firstNumber: record.msnBase, renditions }];
  const records = [record];
  // The window as the first rendition's LL playlist lists it: the tail, then the run's own segments.
  const listed = (await run.rendition(renditions[0].name))?.edge()?.playlist;
  if (!listed) return { periods, records };
  const { segmentDuration } = record;
  let next = run;
  while (next.record.previousRunId !== null && next.record.msnBase > listed.mediaSequence && periods.length < MAX_CHANNEL_PERIODS) {
    const previous = await request.server.live.run(next.record.previousRunId);
    if (!previous) break;
    const before = previous.record;
    const previousRenditions = mpdRenditions(previous);
    // A run that never started or published lists nothing; the channel keeps its container, so it has an MPD form.
    if (typeof previousRenditions !== 'string' && before.msnBase < next.record.msnBase) {
      const first = Math.max(before.msnBase, listed.mediaSequence);
      let end = (first - before.msnBase) * segmentDuration;
      let mediaEnd = end;
      for (let msn = first; msn < next.record.msnBase; msn++) {
        const segment = listed.segments[msn - listed.mediaSequence];
        end += segment?.duration ?? segmentDuration;
        // An MSN the run never finished (EXT-X-GAP: its parts were seen, it has no segment) is no DASH segment.
        if (!segment?.gap) mediaEnd = end;
      }
      // Its media ends where the next run starts at the latest (a producer ahead of its clock: the rest is HLS-only).
      const room = (periods[0].startedAt.getTime() - before.startedAt!.getTime()) / 1000;
      const duration = Math.min(mediaEnd, room);
      if (duration > 0) {
        periods.unshift({ id: previous.runId, startedAt: before.startedAt!, firstNumber: before.msnBase, renditions: previousRenditions, duration });
        records.push(before);
      }
    }
    next = previous;
  }
  return { periods, records };
}

/**
 * `/channels/{name}/manifest.mpd`, answered for the channel's current run `runId`: while it is
 * live, the channel's MPD (a Period per run in the window, on the channel's timeline); once it
 * ended, that run's static MPD, as the channel's HLS playlists are then that run's final ones.
 */
export async function channelManifest(request: RouteRequest, channel: string, runId: string): Promise<void> {
  const run = await request.server.live.run(runId);
  if (!run) return sendError(request.res, 404, `No channel ${channel}`);
  if (run.record.encryption !== null) return sendError(request.res, 404, `Channel ${channel} is private: its encrypted segments are served as HLS only`);
  const renditions = await renditionsOf(request, run);
  if (renditions === undefined) return;
  if (typeof renditions === 'string') return sendError(request.res, 404, `Channel ${channel}: ${renditions}`);
  const { record } = run;
  if (record.status !== 'live') return sendMpd(request, texts, record, await runMpd(run, renditions));
  const { periods, records } = await channelPeriods(request, run, renditions);
  const mpd = channelMpd({
    availabilityStartTime: CHANNEL_AVAILABILITY_START,
    periods,
    segmentDuration: record.segmentDuration,
    partTarget: record.partTarget!,
    ptsOffset: SEGMENT_PTS_OFFSET_S,
    ...(record.windowSeconds !== null ? { windowSeconds: record.windowSeconds } : {}),
    // Any listed run's change (a bandwidth measured, the previous run ended) is a new version.
    updatedAt: new Date(Math.max(...records.map((r) => r.updatedAt.getTime()))),
    now: new Date(),
  });
  sendMpd(request, channelTexts, record, mpd);
}

/** UTCTiming urn:mpeg:dash:utc:http-iso:2014: this server's clock, which PROGRAM-DATE-TIME and availabilityStartTime are on (keep it on NTP). */
function time({ res }: RouteRequest): void {
  sendText(res, 200, new Date().toISOString(), 'text/plain; charset=utf-8', 'no-store');
}

export const dashRoutes: Route[] = [
  { pattern: '/runs/:id/manifest.mpd', handler: playbackRoute(manifest), cors: true },
  { pattern: TIME_PATH, handler: time, cors: true },
];
