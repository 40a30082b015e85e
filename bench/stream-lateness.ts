// How late one paced stream ran (--case streams): each frame's write against
// its wall-clock due time, and each segment's appearance against the due time
// of the frame that closes it. A stream keeps real time when nothing is later
// than one segment.
import { median } from './stats.js';

export interface StreamLateness {
  frames: number;
  segments: number;
  /** Latest write (accepted by the encoder, or by ffmpeg's pipe) after its due time, ms. */
  maxWriteLagMs: number;
  /** Latest segment (event, or listed in ffmpeg's playlist) after the due time of its closing frame, ms. */
  maxSegmentLagMs: number;
  /** Median of the segment lags, ms: the steady encoding delay. */
  medianSegmentLagMs: number;
}

export function lateness(writeLagMs: readonly number[], segmentLagMs: readonly number[]): StreamLateness {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    frames: writeLagMs.length,
    segments: segmentLagMs.length,
    maxWriteLagMs: round(Math.max(0, ...writeLagMs)),
    maxSegmentLagMs: round(Math.max(0, ...segmentLagMs)),
    medianSegmentLagMs: round(segmentLagMs.length ? median(segmentLagMs) : 0),
  };
}

/** Real time: no frame and no segment later than one segment. */
export function keepsRealTime(stream: StreamLateness, segmentSeconds: number, expectedSegments: number): boolean {
  const limit = segmentSeconds * 1000;
  return stream.segments === expectedSegments && stream.maxWriteLagMs <= limit && stream.maxSegmentLagMs <= limit;
}
