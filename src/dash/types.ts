// A typed model of the one MPD shape abrcast writes (ISO/IEC 23009-1): one
// Period per run (one for a run, one per run in the window for a channel), one
// AdaptationSet each, a SegmentTemplate per Representation. Field names
// are the attribute names the standard writes; the serializer owns the XML.
// Times are seconds (durations) and Dates (xs:dateTime); SegmentTemplate
// values are in its @timescale, as the MPD writes them.

/** SegmentTemplate (5.3.9.4) with $Number$ addressing and @duration (no SegmentTimeline). */
export interface SegmentTemplate {
  timescale: number;
  /** Duration of every segment but the last, in @timescale units. */
  duration: number;
  /** Number of the Period's first segment (the HLS Media Sequence Number of the same bytes). */
  startNumber: number;
  /** Media presentation time of the Period's start, in @timescale units (what the media timestamps are offset by). */
  presentationTimeOffset: number;
  /** URL template with $Number$ (and nothing else), relative to the MPD. */
  media: string;
  /** URL of the Initialization Segment. */
  initialization: string;
  /** Seconds a segment is available before its end (5.3.9.5.3): LL-DASH, set with availabilityTimeComplete false. */
  availabilityTimeOffset?: number;
  /** false: a segment is delivered while it is being written (chunked transfer). */
  availabilityTimeComplete?: boolean;
}

/** Representation (5.3.5). */
export interface Representation {
  /** Also the rendition name the segment URLs use. */
  id: string;
  /** bits/s (5.3.5.2: a channel of this rate delivers the stream after @minBufferTime of buffering). */
  bandwidth: number;
  /** RFC 6381 codecs of every track, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  width: number;
  height: number;
  /** Frames per second, written as an integer or a fraction; optional (5.3.7.2). */
  frameRate?: number;
  segmentTemplate: SegmentTemplate;
}

/** AdaptationSet (5.3.3). */
export interface AdaptationSet {
  id: number;
  mimeType: string;
  segmentAlignment: boolean;
  /** SAP type every segment starts with (1: an IDR). */
  startWithSAP: number;
  /** The highest frame rate of its Representations. */
  maxFrameRate?: number;
  representations: readonly Representation[];
}

/** ServiceDescription (Annex K): the latency a player should keep, and how fast it may play to keep it. */
export interface ServiceDescription {
  id: number;
  /** Latency@target/@min/@max, milliseconds. */
  latency: { target: number; min: number; max: number };
  /** PlaybackRate@min/@max. */
  playbackRate: { min: number; max: number };
}

/** UTCTiming (5.8.4.11): where a client reads the clock the MPD's times are on. */
export interface UtcTiming {
  schemeIdUri: string;
  value: string;
}

export interface Period {
  /** Stable across MPD updates (5.3.2.2: a Period keeps its id in every version that lists it). */
  id: string;
  /** Seconds from availabilityStartTime (dynamic) or the presentation start (static). */
  start: number;
  /**
   * Seconds; set on a Period that ends before the next one starts (5.3.2.1: an early terminated
   * Period), where its media ends: its segments stop there and the next Period's start later.
   */
  duration?: number;
  adaptationSets: readonly AdaptationSet[];
}

/** MPD (5.3.1). */
export interface Mpd {
  type: 'static' | 'dynamic';
  profiles: readonly string[];
  availabilityStartTime?: Date;
  publishTime: Date;
  /** Seconds; dynamic only. */
  minimumUpdatePeriod?: number;
  /** Seconds; dynamic only. */
  timeShiftBufferDepth?: number;
  /** Seconds; dynamic only. */
  suggestedPresentationDelay?: number;
  /** Seconds; static. */
  mediaPresentationDuration?: number;
  /** Seconds. */
  minBufferTime: number;
  /** Seconds. */
  maxSegmentDuration?: number;
  serviceDescription?: ServiceDescription;
  /** In presentation order, each starting after the one before. */
  periods: readonly Period[];
  utcTimings: readonly UtcTiming[];
}
