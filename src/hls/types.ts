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
  /** How the segment (and, in LL-HLS, its parts) is encrypted; absent: clear. */
  key?: SegmentKey;
}

/** A Media Playlist (RFC 8216 4.3.3): the segments of one rendition. */
export interface MediaPlaylist {
  /** EXT-X-TARGETDURATION in whole seconds; fixed for the whole run. */
  targetDuration: number;
  /** EXT-X-MEDIA-SEQUENCE: the media sequence number of the first listed segment. */
  mediaSequence: number;
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
}

/** A Master Playlist (RFC 8216 4.3.4): the variants of one stream. */
export interface MasterPlaylist {
  /** Writes EXT-X-INDEPENDENT-SEGMENTS, which then applies to every variant. */
  independentSegments: boolean;
  variants: readonly VariantStream[];
}
