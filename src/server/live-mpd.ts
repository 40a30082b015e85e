// The DASH view of one LL run at one moment (ISO/IEC 23009-1, DASH-IF IOP and
// its low-latency and live-to-VoD guidelines): an MPD that addresses, with
// $Number$, the very segment URIs the LL-HLS playlists list, and the init
// segments their EXT-X-MAP names. Pure: what the live model knows in, an MPD
// model out; docs/players.md tells why each value is what it is.
// A channel's MPD (channelMpd) is the same, one Period per run in its window.
//
// The timeline: availabilityStartTime is the run's first frame on the
// PROGRAM-DATE-TIME clock, Period@start 0 and startNumber the run's first
// Media Sequence Number B (0 unless a channel's run continues another), so
// segment N starts N - B segment durations after it, as
// EXT-X-PROGRAM-DATE-TIME says of Media Sequence Number N. The bytes carry every timestamp SEGMENT_PTS_OFFSET_S
// late: presentationTimeOffset takes it out. A channel's MPD has one origin for
// all its runs (CHANNEL_AVAILABILITY_START): each run's Period starts at the
// run's startedAt on it, with startNumber B, the same arithmetic.
import { PROFILE_ISOFF_LIVE } from '../dash/mpd.js';
import type { Mpd, Period, Representation } from '../dash/types.js';
import { PART_HOLD_BACK_PARTS } from '../hls/low-latency-playlist.js';
import { targetDurationFor } from '../hls/media-playlist.js';

/** 90 kHz: whole for every common frame rate's frame (24, 25, 30, 50, 60 fps) and for 1.4 s. */
export const MPD_TIMESCALE = 90_000;
/** The route answering UTCTiming (http-iso: an ISO 8601 date-time in the body), relative to the MPD. */
export const TIME_PATH = '/time';
export const UTC_TIMING_SCHEME = 'urn:mpeg:dash:utc:http-iso:2014';
/** ServiceDescription PlaybackRate: how much faster or slower a player may play to hold the target latency (DASH-IF LL examples). */
export const CATCH_UP_RATE = 0.04;

/**
 * A channel's MPD@availabilityStartTime: the Unix epoch, for every channel. It never changes
 * while the channel lives (nor when its row is made again), needs no lookup, and mixes no
 * clocks: a Period@start is its run's startedAt (the PROGRAM-DATE-TIME clock) as is.
 */
export const CHANNEL_AVAILABILITY_START = new Date(0);

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

/** One run's Period in a channel's MPD. */
export interface MpdPeriodInput {
  /** Period@id: the run's id, the same in every version of the MPD that lists it. */
  id: string;
  /** The run's first frame, on the PROGRAM-DATE-TIME clock. */
  startedAt: Date;
  /** $Number$ of the run's first segment: its Media Sequence Number (msn_base). */
  firstNumber: number;
  /** Highest bandwidth first; each Period's init segments are its run's. */
  renditions: readonly MpdRendition[];
  /** Seconds from its start to the end of its last segment, for a Period a later one follows (Period@duration). */
  duration?: number;
}

export interface ChannelMpdInput {
  /** The channel's MPD@availabilityStartTime: the same in every version, whatever runs it lists. */
  availabilityStartTime: Date;
  /** The channel's runs with segments in its window, oldest first; every one but the last has a duration. */
  periods: readonly MpdPeriodInput[];
  segmentDuration: number;
  partTarget: number;
  ptsOffset: number;
  /** The channel's window, seconds: what its HLS playlists list, the MPD's time-shift buffer (default: since the first Period). */
  windowSeconds?: number;
  /** When the records of the runs it lists last changed. */
  updatedAt: Date;
  now: Date;
}

type Timing = Pick<LiveMpdInput, 'segmentDuration' | 'partTarget' | 'ptsOffset'> & { live: boolean };

/** A run's Period: its renditions' SegmentTemplates number its segments from its first MSN, from the Period's start. */
function runPeriod(id: string, start: number, firstNumber: number, renditions: readonly MpdRendition[], timing: Timing): Period {
  const { segmentDuration, partTarget, live } = timing;
  const representations: Representation[] = renditions.map((rendition) => ({
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
      startNumber: firstNumber,
      presentationTimeOffset: Math.round(timing.ptsOffset * MPD_TIMESCALE),
      initialization: rendition.initialization,
      media: rendition.media,
      // Live: a segment may be asked for once its first part is written; the server then sends it part by part.
      ...(live ? { availabilityTimeOffset: segmentDuration - partTarget, availabilityTimeComplete: false } : {}),
    },
  }));
  return {
    id,
    start,
    adaptationSets: [{
      id: 0, mimeType: 'video/mp4', segmentAlignment: true, startWithSAP: 1,
      maxFrameRate: Math.max(...renditions.map((rendition) => rendition.frameRate)), representations,
    }],
  };
}

/** What every MPD abrcast writes has, given its Periods. */
function common(availabilityStartTime: Date, segmentDuration: number, periods: Period[]) {
  return {
    profiles: [PROFILE_ISOFF_LIVE],
    availabilityStartTime,
    minBufferTime: segmentDuration,
    maxSegmentDuration: segmentDuration,
    periods,
    utcTimings: [{ schemeIdUri: UTC_TIMING_SCHEME, value: TIME_PATH }],
  };
}

/** What a live MPD has beyond the common part: updates, the LL service description. */
function liveAttributes(timing: Timing, publishTime: Date, timeShiftBufferDepth: number) {
  return {
    type: 'dynamic' as const,
    publishTime,
    // The MPD changes when the run ends (type static) or its measured bandwidths do: once a target duration is often enough.
    minimumUpdatePeriod: targetDurationFor(timing.segmentDuration),
    timeShiftBufferDepth,
    // No suggestedPresentationDelay: the ServiceDescription says the latency to keep, and Shaka Player 5 in
    // low-latency mode counts its Latency@target from the edge less suggestedPresentationDelay, i.e. adds the two.
    serviceDescription: {
      id: 0,
      latency: latencyTargets(timing.partTarget, timing.segmentDuration),
      playbackRate: { min: 1 - CATCH_UP_RATE, max: 1 + CATCH_UP_RATE },
    },
  };
}

/** The start of the newest segment that began by `now` (counted from `startedAt`): when the live MPD last grew. */
function segmentBoundary(startedAt: Date, segmentDuration: number, now: Date): { elapsedSegments: number; boundary: Date } {
  const elapsedSegments = Math.max(1, Math.ceil((now.getTime() - startedAt.getTime()) / 1000 / segmentDuration));
  const boundary = new Date(Math.min(now.getTime(), startedAt.getTime() + (elapsedSegments - 1) * segmentDuration * 1000));
  return { elapsedSegments, boundary };
}

export function liveMpd(input: LiveMpdInput): Mpd {
  const { segmentDuration, startedAt, now } = input;
  const ended = input.endedDuration !== undefined;
  const timing = { ...input, live: !ended };
  const period = runPeriod('0', 0, input.firstNumber ?? 0, input.renditions, timing);
  const shared = common(startedAt, segmentDuration, [period]);
  if (ended) {
    // DASH-IF live-to-VoD, scheduled service: type static, mediaPresentationDuration, no update period; same URLs.
    return { ...shared, type: 'static', publishTime: input.updatedAt, mediaPresentationDuration: input.endedDuration };
  }
  // Every segment since the start stays listed (the HLS playlists are EVENT): the time-shift buffer is the run so far,
  // counted in whole segments so the MPD changes once a segment, and publishTime with it.
  const { elapsedSegments, boundary } = segmentBoundary(startedAt, segmentDuration, now);
  const publishTime = new Date(Math.max(boundary.getTime(), input.updatedAt.getTime()));
  return { ...shared, ...liveAttributes(timing, publishTime, elapsedSegments * segmentDuration) };
}

/**
 * A live channel's MPD: one Period per run with segments in the window, each
 * numbered from its run's first MSN and starting at its run's first frame, so a
 * restarted producer's segments keep the URIs and the PROGRAM-DATE-TIMEs the
 * channel's HLS playlists give them. A Period a later one follows ends where its
 * last segment does (an early terminated Period): the producer's restart is a
 * gap between the two, which players jump, as HLS players cross the discontinuity.
 */
export function channelMpd(input: ChannelMpdInput): Mpd {
  const { availabilityStartTime, segmentDuration, now } = input;
  const timing = { ...input, live: true };
  const origin = availabilityStartTime.getTime();
  const periods = input.periods.map((period) => ({
    ...runPeriod(period.id, (period.startedAt.getTime() - origin) / 1000, period.firstNumber, period.renditions, timing),
    ...(period.duration === undefined ? {} : { duration: period.duration }),
  }));
  const current = input.periods.at(-1);
  if (!current) throw new Error('channelMpd: no Period');
  const { boundary } = segmentBoundary(current.startedAt, segmentDuration, now);
  const publishTime = new Date(Math.max(boundary.getTime(), input.updatedAt.getTime()));
  // The HLS window in whole segments, as the media playlists list it.
  const window = input.windowSeconds ?? (now.getTime() - input.periods[0].startedAt.getTime()) / 1000;
  const timeShiftBufferDepth = Math.max(1, Math.ceil(window / segmentDuration - 1e-9)) * segmentDuration;
  return { ...common(availabilityStartTime, segmentDuration, periods), ...liveAttributes(timing, publishTime, timeShiftBufferDepth) };
}
