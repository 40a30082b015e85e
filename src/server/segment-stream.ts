// A segment asked for before it is whole, sent part by part as the parts are
// recorded (LL-DASH: availabilityTimeOffset with availabilityTimeComplete
// false; the CMAF chunks are the LL-HLS parts, the same bytes). The answer has
// no Content-Length: HTTP/1.1 chunked transfer coding, or HTTP/2 DATA frames,
// one write per part, so a client reads each chunk as soon as it exists. The
// connection is held in memory, on the rendition's live model, until the
// segment ends; it counts as a held request.
import { totalDuration } from '../hls/media-playlist.js';
import type { PartRecord } from '../registry/run-records.js';
import { isWholeSegment, MSN_AHEAD_LIMIT, type LiveEdge } from './live-edge.js';
import type { LiveRendition } from './live-rendition.js';
import { IMMUTABLE, sendError } from './responses.js';
import type { HttpResponse, RouteRequest } from './router.js';

/** Sums of written durations may differ from EXTINF by rounding. */
const DURATION_TOLERANCE_S = 1e-3;

/**
 * Whether segment `msn`, not yet whole, may be asked for now: the one being
 * written, or one after it whose first part comes within a segment (the same
 * reach as an _HLS_msn, RFC 8216bis 6.2.5.2). A DASH client computes when a
 * segment becomes available from its own clock, so its first request can come
 * a moment before the part it waits for is recorded.
 */
export function isComingSegment(edge: LiveEdge, msn: number): boolean {
  return !edge.ended && msn > edge.lastCompleteMsn && msn <= edge.lastCompleteMsn + MSN_AHEAD_LIMIT;
}

/** Writes a chunk, resolving once the socket takes more (or the client is gone). */
function write(res: HttpResponse, chunk: Buffer): Promise<void> {
  // One signature of both responses' write(): TypeScript cannot call the union's overloads.
  if ((res as { write(chunk: Buffer): boolean }).write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

type Outcome = 'done' | 'gone' | 'not-started' | 'broken';

/**
 * Streams segment `msn` of `model` from its parts: those recorded are sent at
 * once, each later one as it is recorded. Each part is waited for up to
 * `partTimeoutMs`. The response ends when the parts make a whole segment (or
 * the run ended after its last part); a part that never comes after the first
 * was sent (lost, or too late) aborts the response, so neither the client nor a
 * cache takes a short segment for the whole one. False (nothing sent) when
 * the process holds as many requests as it may.
 */
export async function streamRecordedParts(request: RouteRequest, model: LiveRendition, msn: number, contentType: string, partTimeoutMs: number): Promise<boolean> {
  const { req, res, server } = request;
  const sent: PartRecord[] = [];
  const held = await server.held.hold(async (): Promise<Outcome> => {
    for (;;) {
      const index = sent.length;
      let part = model.part(msn, index);
      if (!part) {
        if (isWholeSegment(sent, model.runTiming)) return 'done';
        const edge = await model.wait(() => model.part(msn, index) !== undefined || model.isPassed(msn, index), partTimeoutMs, res);
        if (res.destroyed) return 'gone';
        part = model.part(msn, index);
        if (!part) {
          const current = edge ?? model.edge();
          if (current?.ended && sent.length > 0) {
            // The run's last segment is short: whole once its parts add up to what the final playlist says.
            const listed = current.playlist.segments[msn - current.playlist.mediaSequence]?.duration;
            if (listed === undefined || totalDuration(sent) >= listed - DURATION_TOLERANCE_S) return 'done';
          }
          if (current?.ended || model.isPassed(msn, index) || edge === undefined) return sent.length === 0 ? 'not-started' : 'broken';
          continue;
        }
      }
      const bytes = await server.partBytes.get(part.cid);
      if (res.destroyed) return 'gone';
      if (sent.length === 0) {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': IMMUTABLE });
        if (req.method === 'HEAD') return 'done';
      }
      await write(res, bytes);
      sent.push(part);
    }
  });
  if (!held) return false;
  switch (held.value) {
    case 'done':
      res.end();
      break;
    case 'gone':
      break;
    case 'not-started':
      sendError(res, 404, `No segment ${msn} of ${model.name}: its first part did not come within ${partTimeoutMs / 1000} s`);
      break;
    case 'broken':
      server.logger.warn({ rendition: model.name, msn, parts: sent.length }, 'segment stream: a part did not come; response aborted');
      res.destroy();
      break;
  }
  return true;
}
