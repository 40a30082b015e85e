// The DASH view of one LL run at one moment (ISO/IEC 23009-1, DASH-IF IOP and
// its low-latency and live-to-VoD guidelines): an MPD that addresses, with
// $Number$, the very segment URIs the LL-HLS playlists list, and the init
// segments their EXT-X-MAP names. Pure: what the live model knows in, an MPD
// model out; docs/players.md tells why each value is what it is.
//
// The timeline: availabilityStartTime is the run's first frame on the
// PROGRAM-DATE-TIME clock, Period@start 0 and startNumber the run's first
// Media Sequence Number B (0 unless a channel's run continues another), so
// segment N starts N - B segment durations after it, as
// EXT-X-PROGRAM-DATE-TIME says of Media Sequence Number N. The bytes carry every timestamp SEGMENT_PTS_OFFSET_S
// late: presentationTimeOffset takes it out.
import { PROFILE_ISOFF_LIVE } from '../dash/mpd.js';
import type { Mpd, Representation } from '../dash/types.js';
import { PART_HOLD_BACK_PARTS } from '../hls/low-latency-playlist.js';
import { targetDurationFor } from '../hls/media-playlist.js';

/** 90 kHz: whole for every common frame rate's frame (24, 25, 30, 50, 60 fps) and for 1.4 s. */
export const MPD_TIMESCALE = 90_000;
/** The route answering UTCTiming (http-iso: an ISO 8601 date-time in the body), relative to the MPD. */
export const TIME_PATH = '/time';
export const UTC_TIMING_SCHEME = 'urn:mpeg:dash:utc:http-iso:2014';
/** ServiceDescription PlaybackRate: how much faster or slower a player may play to hold the target latency (DASH-IF LL examples). */
export const CATCH_UP_RATE = 0.04;

export interface MpdRendition {
  name: string;
  /** bits/s: the variant's BANDWIDTH (peak over a target duration, the encoder's maxrate while nothing was measured). */
  bandwidth: number;
  codecs: string;
  width: number;
  height: number;
  frameRate: number;
  /** The init segment's URL (the EXT-X-MAP URI). */
  initialization: string;
  /** The segment URL template, $Number$ for the Media Sequence Number (the LL-HLS segment URI). */
  media: string;
}

export interface LiveMpdInput {
  /** The run's first frame, on the PROGRAM-DATE-TIME clock. */
  startedAt: Date;
  /**
   * $Number$ of the run's first segment: its Media Sequence Number (0, or where a channel's
   * run continues the previous one's numbers). Default 0.
   */
  firstNumber?: number;
  segmentDuration: number;
  /** LL-HLS PART-TARGET, seconds: each CMAF chunk (part) lasts at most this. */
  partTarget: number;
  /** Seconds every timestamp in the bytes is late (SEGMENT_PTS_OFFSET_S). */
  ptsOffset: number;
  /** Highest bandwidth first, as the master lists them. */
  renditions: readonly MpdRendition[];
  /** When the run record last changed (a publish, the end): the MPD's content changes with it. */
  updatedAt: Date;
  /** Set once the run has ended: the whole presentation's duration, seconds. */
  endedDuration?: number;
  now: Date;
}

/** The Latency (ms) a player should keep: PART-HOLD-BACK plus the part being loaded, as LL-HLS players hold. */
export function latencyTargets(partTarget: number, segmentDuration: number): { target: number; min: number; max: number } {
  const holdBack = PART_HOLD_BACK_PARTS * partTarget;
  return {
    target: Math.round((holdBack + partTarget) * 1000),
    min: Math.round(2 * partTarget * 1000),
    max: Math.round((holdBack + partTarget + 2 * segmentDuration) * 1000),
  };
}

export function liveMpd(input: LiveMpdInput): Mpd {
  const { segmentDuration, partTarget, startedAt, now } = input;
  const ended = input.endedDuration !== undefined;
  const representations: Representation[] = input.renditions.map((rendition) => ({
    id: rendition.name,
    bandwidth: Math.max(1, Math.round(rendition.bandwidth)),
    codecs: rendition.codecs,
    width: rendition.width,
    height: rendition.height,
    // No @frameRate (optional): dash.js 5 checks a Representation that has width, height, bandwidth and
    // frameRate with MediaCapabilities.decodingInfo(), which refuses a video configuration of two codecs
    // (video and audio muxed, as here); without it, with MediaSource.isTypeSupported(), which takes them.
    segmentTemplate: {
      timescale: MPD_TIMESCALE,
      duration: Math.round(segmentDuration * MPD_TIMESCALE),
      startNumber: input.firstNumber ?? 0,
      presentationTimeOffset: Math.round(input.ptsOffset * MPD_TIMESCALE),
      initialization: rendition.initialization,
      media: rendition.media,
      // Live: a segment may be asked for once its first part is written; the server then sends it part by part.
      ...(ended ? {} : { availabilityTimeOffset: segmentDuration - partTarget, availabilityTimeComplete: false }),
    },
  }));
  const latency = latencyTargets(partTarget, segmentDuration);
  const period = {
    id: '0',
    start: 0,
    adaptationSets: [{
      id: 0, mimeType: 'video/mp4', segmentAlignment: true, startWithSAP: 1,
      maxFrameRate: Math.max(...input.renditions.map((rendition) => rendition.frameRate)), representations,
    }],
  };
  const common = {
    profiles: [PROFILE_ISOFF_LIVE],
    availabilityStartTime: startedAt,
    minBufferTime: segmentDuration,
    maxSegmentDuration: segmentDuration,
    period,
    utcTimings: [{ schemeIdUri: UTC_TIMING_SCHEME, value: TIME_PATH }],
  };
  if (ended) {
    // DASH-IF live-to-VoD, scheduled service: type static, mediaPresentationDuration, no update period; same URLs.
    return { ...common, type: 'static', publishTime: input.updatedAt, mediaPresentationDuration: input.endedDuration };
  }
  // Every segment since the start stays listed (the HLS playlists are EVENT): the time-shift buffer is the run so far,
  // counted in whole segments so the MPD changes once a segment, and publishTime with it.
  const elapsedSegments = Math.max(1, Math.ceil((now.getTime() - startedAt.getTime()) / 1000 / segmentDuration));
  const boundary = new Date(Math.min(now.getTime(), startedAt.getTime() + (elapsedSegments - 1) * segmentDuration * 1000));
  return {
    ...common,
    type: 'dynamic',
    publishTime: new Date(Math.max(boundary.getTime(), input.updatedAt.getTime())),
    // The MPD changes when the run ends (type static) or its measured bandwidths do: once a target duration is often enough.
    minimumUpdatePeriod: targetDurationFor(segmentDuration),
    timeShiftBufferDepth: elapsedSegments * segmentDuration,
    // No suggestedPresentationDelay: the ServiceDescription says the latency to keep, and Shaka Player 5 in
    // low-latency mode counts its Latency@target from the edge less suggestedPresentationDelay, i.e. adds the two.
    serviceDescription: {
      id: 0,
      latency,
      playbackRate: { min: 1 - CATCH_UP_RATE, max: 1 + CATCH_UP_RATE },
    },
  };
}
