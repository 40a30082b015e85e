// LL-DASH from the same CMAF bytes as LL-HLS: the MPD of an fMP4 run with
// parts (src/server/live-mpd.ts builds it from the run's live model, no SQL
// per request), and the clock its UTCTiming names. Its segment URLs are the
// LL-HLS segment URIs (routes/low-latency.ts), which send the segment being
// written part by part.
import { gzipSync } from 'node:zlib';
import { serializeMpd, MPD_CONTENT_TYPE } from '../../dash/mpd.js';
import { SEGMENT_PTS_OFFSET_S } from '../../encoder/types.js';
import { totalDuration } from '../../hls/media-playlist.js';
import { orderVariants } from '../../model/variant-stream-record.js';
import type { RunRecord } from '../../registry/run-records.js';
import { segmentUri } from '../live-edge.js';
import type { LiveRun } from '../live-runs.js';
import { liveMpd, TIME_PATH, type MpdRendition } from '../live-mpd.js';
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

async function manifest(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const run = await request.server.live.run(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  // AES-128 of whole segments and parts (docs/private-streams.md) has no DASH form: DASH encrypts samples (CENC).
  if (request.playback?.private) return sendError(request.res, 404, `Run ${runId} is private: its encrypted segments are served as HLS only`);
  let renditions = mpdRenditions(run);
  if (typeof renditions === 'string' && run.record.status === 'live' && run.record.playlistSequence === 0) {
    // Fast start, as for the master: a request before the first publish is answered by it.
    const published = (record: RunRecord) => record.playlistSequence > 0 || record.status !== 'live';
    const held = await request.server.held.hold(() => run.waitForRecord(published, MASTER_WAIT_MS, request.res));
    if (!held) return sendHeldLimit(request);
    if (request.res.destroyed) return;
    renditions = mpdRenditions(run);
  }
  if (typeof renditions === 'string') return sendError(request.res, 404, renditions);
  const record = run.record;
  const ended = record.status !== 'live';
  const mpd = liveMpd({
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
  let answer = texts.get(record);
  if (answer?.version !== mpd.publishTime.getTime()) texts.set(record, (answer = { version: mpd.publishTime.getTime(), text: serializeMpd(mpd) }));
  // Fetched again every minimumUpdatePeriod by every viewer: one text and one gzip per version.
  const gzipped = (answer.gzip ??= gzipSync(answer.text));
  sendPlaylist(request.req, request.res, answer.text, { 'Content-Type': MPD_CONTENT_TYPE, 'Cache-Control': 'no-cache' }, { gzipped });
}

/** UTCTiming urn:mpeg:dash:utc:http-iso:2014: this server's clock, which PROGRAM-DATE-TIME and availabilityStartTime are on (keep it on NTP). */
function time({ res }: RouteRequest): void {
  sendText(res, 200, new Date().toISOString(), 'text/plain; charset=utf-8', 'no-store');
}

export const dashRoutes: Route[] = [
  { pattern: '/runs/:id/manifest.mpd', handler: playbackRoute(manifest), cors: true },
  { pattern: TIME_PATH, handler: time, cors: true },
];
