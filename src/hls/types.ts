// Typed models of the two HLS playlist kinds abrcast writes (RFC 8216).
// Field names follow the tags they become; the serializers own the text format.

/**
 * EXT-X-KEY (RFC 8216bis 4.4.4.4) with METHOD=AES-128: the resource is AES-128-CBC
 * encrypted whole, under the key at `uri`, with this IV (always written: abrcast gives
 * every segment its own IV, and the init segment of an EXT-X-MAP must have one).
 */
export interface SegmentKey {
  method: 'AES-128';
  /** Where a player fetches the 16-byte key. */
  uri: string;
  /** 16 bytes as 32 hex digits, written IV=0x… */
  iv: string;
}

/**
 * Which key encrypts a resource of a run and with which IV, as the publisher
 * records it: the key's number in the run (its key URI is made from it) and the IV.
 */
export interface ResourceKey {
  index: number;
  /** 16 bytes as 32 lowercase hex digits. */
  iv: string;
}

/** One entry of a Media Playlist: EXTINF duration, optional PROGRAM-DATE-TIME, and the URI. */
export interface MediaSegment {
  /** Exact duration in seconds (from presentation timestamps), written with 5 decimals. */
  duration: number;
  uri: string;
  /** Wall-clock time of the segment's first sample; written as EXT-X-PROGRAM-DATE-TIME. */
  programDateTime?: Date;
  /**
   * Preceded by EXT-X-DISCONTINUITY (RFC 8216 4.3.2.3): the segment does not continue
   * the one before it (a channel's next run: new timestamps, a new encoder).
   */
  discontinuity?: boolean;
  /**
   * EXT-X-MAP written before this segment: its init segment when it differs from the one
   * before (fMP4 after a discontinuity). The playlist's mapUri covers the first segments.
   */
  mapUri?: string;
  /**
   * The key of the init segment at mapUri, written as an EXT-X-KEY before that EXT-X-MAP (RFC 8216bis
   * 4.4.4.5). Absent: a clear init segment, after METHOD=NONE when a key is in effect (a channel's runs).
   */
  mapKey?: SegmentKey;
  /** How the segment (and, in LL-HLS, its parts) is encrypted; absent: clear. */
  key?: SegmentKey;
  /**
   * EXT-X-GAP (RFC 8216bis 4.4.4.7): the segment has no media and clients do not load it. A
   * channel lists one where its crashed run never finished a segment that viewers saw parts of.
   */
  gap?: boolean;
}

/** A Media Playlist (RFC 8216 4.3.3): the segments of one rendition. */
export interface MediaPlaylist {
  /** EXT-X-TARGETDURATION in whole seconds; fixed for the whole run. */
  targetDuration: number;
  /** EXT-X-MEDIA-SEQUENCE: the media sequence number of the first listed segment. */
  mediaSequence: number;
  /**
   * EXT-X-DISCONTINUITY-SEQUENCE (RFC 8216 4.3.3.3): the discontinuity sequence number of
   * the first listed segment; written when set (a sliding window that dropped a discontinuity,
   * a channel's run after the first). Omitted: 0.
   */
  discontinuitySequence?: number;
  /** EXT-X-PLAYLIST-TYPE; omitted for a sliding live playlist. */
  playlistType?: 'EVENT' | 'VOD';
  /** Writes EXT-X-INDEPENDENT-SEGMENTS (every segment starts with an IDR frame). */
  independentSegments: boolean;
  segments: readonly MediaSegment[];
  /** EXT-X-MAP URI: the fMP4 init segment (Media Initialization Section) of every segment. */
  mapUri?: string;
  /** How the init segment is encrypted (an EXT-X-KEY before EXT-X-MAP); absent: clear. */
  mapKey?: SegmentKey;
  /** Writes EXT-X-ENDLIST: no more segments will be added. */
  endList: boolean;
  /** EXT-X-DATERANGE tags (RFC 8216bis 4.4.5.1), written after the header, before the first segment. */
  dateRanges?: readonly DateRange[];
}

/** A client attribute's value (RFC 8216bis 4.4.5.1): a quoted-string, a decimal-floating-point, or bytes written as a hexadecimal-sequence. */
export type DateRangeValue = string | number | Uint8Array;

/** One EXT-X-DATERANGE (RFC 8216bis 4.4.5.1): a range of time, on the PROGRAM-DATE-TIME clock, with attributes. */
export interface DateRange {
  /** ID: unique within the playlist; tags with the same ID describe the same range. */
  id: string;
  /** CLASS: what the attributes mean (a reverse-DNS name); required with endOnNext. */
  class?: string;
  /** START-DATE. */
  startDate: Date;
  /** CUE: PRE, POST and/or ONCE. */
  cue?: readonly ('PRE' | 'POST' | 'ONCE')[];
  /** END-DATE: at or after START-DATE; START-DATE + DURATION when both are given. */
  endDate?: Date;
  /** DURATION in seconds (0 or more). */
  duration?: number;
  /** PLANNED-DURATION in seconds: the expected length while the real one is unknown. */
  plannedDuration?: number;
  /** SCTE35-CMD, SCTE35-OUT, SCTE35-IN: splice_info_section bytes. */
  scte35Cmd?: Uint8Array;
  scte35Out?: Uint8Array;
  scte35In?: Uint8Array;
  /** END-ON-NEXT=YES: the range ends where the next one of its CLASS starts. */
  endOnNext?: boolean;
  /** X-<name> client attributes, by full name (e.g. X-COM-EXAMPLE-TITLE). */
  clientAttributes?: Readonly<Record<string, DateRangeValue>>;
}


export interface Resolution {
  width: number;
  height: number;
}

/** One EXT-X-STREAM-INF entry of a Master Playlist (RFC 8216 4.3.4.2). */
export interface VariantStream {
  /** URI of the variant's Media Playlist. */
  uri: string;
  /** BANDWIDTH: peak segment bit rate in bits/s. */
  bandwidth: number;
  /** AVERAGE-BANDWIDTH: average segment bit rate in bits/s; omitted when unknown. */
  averageBandwidth?: number;
  /** CODECS: RFC 6381 codec string(s), e.g. `avc1.640028`. */
  codecs: string;
  resolution: Resolution;
  /** FRAME-RATE: frames per second, written with 3 decimals. */
  frameRate: number;
  /**
   * NAME: the rendition's label. Not an RFC 8216 STREAM-INF attribute; clients
   * must ignore it (RFC 8216 6.3.1) but hls.js shows it as the level name.
   */
  name: string;
  /** SUBTITLES: the GROUP-ID of the subtitle renditions (EXT-X-MEDIA) that go with this variant. */
  subtitles?: string;
}

/** One EXT-X-MEDIA rendition (RFC 8216bis 4.4.6.1); abrcast writes TYPE=SUBTITLES only. */
export interface MediaRendition {
  type: 'SUBTITLES';
  groupId: string;
  name: string;
  /** LANGUAGE: an RFC 5646 tag. */
  language?: string;
  default: boolean;
  autoselect: boolean;
  uri: string;
}

/** One EXT-X-I-FRAME-STREAM-INF (RFC 8216bis 4.4.6.3): a rendition's I-frame playlist. */
export interface IframeStream {
  uri: string;
  /** Peak bit rate of its I-frames alone (each I-frame's bytes over its EXTINF), bits/s. */
  bandwidth: number;
  averageBandwidth?: number;
  /** The video codec only. */
  codecs: string;
  resolution: Resolution;
}

/**
 * One EXT-X-IMAGE-STREAM-INF: an image media playlist of thumbnails (the HLS Image Media
 * Playlist convention Roku and others read; not in RFC 8216bis).
 */
export interface ImageStream {
  uri: string;
  bandwidth: number;
  resolution: Resolution;
  /** The image format, e.g. jpeg. */
  codecs: string;
}

/** A Master Playlist (RFC 8216 4.3.4): the variants of one stream. */
export interface MasterPlaylist {
  /** Writes EXT-X-INDEPENDENT-SEGMENTS, which then applies to every variant. */
  independentSegments: boolean;
  /** EXT-X-MEDIA renditions, written before the variants. */
  media?: readonly MediaRendition[];
  variants: readonly VariantStream[];
  iframeStreams?: readonly IframeStream[];
  imageStreams?: readonly ImageStream[];
}
