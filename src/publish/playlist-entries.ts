// The pieces of a publish that the live publisher and finalizeRun (rebuilding a
// dead run from the registry) must agree on: how listed segments become a media
// playlist, and how a rendition becomes a quality entry and a master variant.
import type { Rendition } from '../encoder/types.js';
import { DEFAULT_AUDIO_BITRATE } from '../encoder/options.js';
import { variantBandwidth, type BandwidthMeter } from '../hls/bandwidth.js';
import type { UploadedSegment } from '../hls/contiguous-segments.js';
import { programDateTimes } from '../hls/program-date-time.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist, MediaSegment, ResourceKey, SegmentKey, VariantStream } from '../hls/types.js';
import type { VariantStreamRecord } from '../model/variant-stream-record.js';

export interface EventPlaylistInput {
  targetDuration: number;
  /** Segments of one rendition in index order: normally the contiguous prefix 0..k-1. */
  segments: readonly UploadedSegment[];
  segmentUrl: CidUrl;
  /** Adds EXT-X-ENDLIST. */
  endList: boolean;
  /**
   * Wall-clock time of frame 0 (the run's startedAt). EXT-X-PROGRAM-DATE-TIME
   * goes on the first segment and after any missing index, counted from it.
   */
  startedAt: Date;
  /** Seconds a missing index counts for (default: targetDuration). */
  segmentDuration?: number;
  /** EXT-X-MAP URI of the rendition's fMP4 init segment. */
  mapUri?: string;
  /** An encrypted init segment's key. */
  mapKey?: ResourceKey;
  /** An encrypted run's key URI of key `index` (needed when a segment or the init segment has a key). */
  keyUri?: (index: number) => string;
}

/** The EXT-X-KEY of a resource from its key reference and the run's key URIs. */
export function segmentKey(key: ResourceKey, keyUri: ((index: number) => string) | undefined): SegmentKey {
  if (!keyUri) throw new TypeError('An encrypted segment needs the run\'s key URIs (keyUri)');
  return { method: 'AES-128', uri: keyUri(key.index), iv: key.iv };
}

export function eventMediaPlaylist(input: EventPlaylistInput): MediaPlaylist {
  const dates = programDateTimes(input.segments, input.startedAt, input.segmentDuration ?? input.targetDuration);
  const { keyUri } = input;
  return {
    targetDuration: input.targetDuration,
    mediaSequence: 0,
    // EVENT stays after the end too: RFC 8216 lets a live playlist only grow and gain ENDLIST.
    playlistType: 'EVENT',
    independentSegments: true,
    endList: input.endList,
    ...(input.mapUri !== undefined ? { mapUri: input.mapUri } : {}),
    ...(input.mapUri !== undefined && input.mapKey ? { mapKey: segmentKey(input.mapKey, keyUri) } : {}),
    segments: input.segments.map((segment, position) => ({
      duration: segment.duration,
      uri: input.segmentUrl(segment.cid),
      ...(dates[position] ? { programDateTime: dates[position] } : {}),
      ...(segment.key ? { key: segmentKey(segment.key, keyUri) } : {}),
    })),
  };
}

/**
 * One listed segment of a sliding-window or channel playlist, as it is written:
 * numbered by its Media Sequence Number, with its own start time and the
 * discontinuity and init segment in force for it.
 */
export interface TimelineSegment {
  /** Media Sequence Number. */
  msn: number;
  duration: number;
  uri: string;
  /** Wall-clock time of its first sample, ms since the epoch. */
  startMs: number;
  /** Preceded by EXT-X-DISCONTINUITY. */
  discontinuity: boolean;
  /** Discontinuity sequence number of the segment (its own EXT-X-DISCONTINUITY counted). */
  discontinuitySequence: number;
  /** EXT-X-MAP URI in force for it (fMP4). */
  mapUri?: string;
  /** Its EXT-X-KEY in an encrypted run. */
  key?: SegmentKey;
  /** The key of the init segment in force for it (an encrypted fMP4 run). */
  mapKey?: SegmentKey;
  /** EXT-X-GAP: an MSN a channel's crashed run never finished (ContinuedSegment.gap). */
  gap?: boolean;
}

export interface TimelinePlaylistInput {
  targetDuration: number;
  /** Consecutive segments (MSN n, n+1, …). */
  segments: readonly TimelineSegment[];
  /** EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE without segments: those of the first one to come. */
  emptyMediaSequence?: number;
  emptyDiscontinuitySequence?: number;
  /** EXT-X-MAP without segments: the init segment of those to come, and its key. */
  emptyMapUri?: string;
  emptyMapKey?: SegmentKey;
  /** 'live': a sliding window (no EXT-X-PLAYLIST-TYPE); 'event'; 'vod' (EXT-X-ENDLIST implied). */
  type: 'live' | 'event' | 'vod';
  endList: boolean;
  /** Writes EXT-X-DISCONTINUITY-SEQUENCE even when it is 0 (a channel's playlists always carry it). */
  alwaysDiscontinuitySequence?: boolean;
}

/**
 * The media playlist of consecutive timeline segments: EXT-X-MEDIA-SEQUENCE is the
 * first one's MSN, EXT-X-DISCONTINUITY-SEQUENCE its discontinuity sequence number
 * (RFC 8216 6.2.2: tags that slid out are counted there, and so is a tag of the first
 * segment itself, which is therefore not written), a date
 * on the first segment and after each discontinuity, EXT-X-MAP where the init
 * segment changes (with that init segment's key), and each segment's key (the serializer writes
 * EXT-X-KEY where it changes).
 */
export function timelineMediaPlaylist(input: TimelinePlaylistInput): MediaPlaylist {
  const { segments } = input;
  const first = segments[0];
  const written: MediaSegment[] = [];
  let map = first?.mapUri;
  segments.forEach((segment, position) => {
    const dated = position === 0 || segment.discontinuity;
    const mapChanged = position > 0 && segment.mapUri !== undefined && segment.mapUri !== map;
    if (mapChanged) map = segment.mapUri;
    written.push({
      duration: segment.duration,
      uri: segment.uri,
      ...(dated ? { programDateTime: new Date(Math.round(segment.startMs)) } : {}),
      ...(segment.discontinuity && position > 0 ? { discontinuity: true } : {}),
      // A channel's next run, fMP4: its init segment with its own key (the serializer writes that EXT-X-KEY before EXT-X-MAP).
      ...(mapChanged ? { mapUri: segment.mapUri, ...(segment.mapKey ? { mapKey: segment.mapKey } : {}) } : {}),
      ...(segment.key ? { key: segment.key } : {}),
      ...(segment.gap ? { gap: true } : {}),
    });
  });
  // The first segment's own tag is counted in EXT-X-DISCONTINUITY-SEQUENCE instead of written.
  const sequence = first ? first.discontinuitySequence : (input.emptyDiscontinuitySequence ?? 0);
  return {
    targetDuration: input.targetDuration,
    mediaSequence: first?.msn ?? input.emptyMediaSequence ?? 0,
    ...(sequence > 0 || input.alwaysDiscontinuitySequence ? { discontinuitySequence: sequence } : {}),
    ...(input.type === 'event' ? { playlistType: 'EVENT' as const } : input.type === 'vod' ? { playlistType: 'VOD' as const } : {}),
    independentSegments: true,
    endList: input.endList || input.type === 'vod',
    ...((first ? first.mapUri : input.emptyMapUri) !== undefined ? { mapUri: first ? first.mapUri : input.emptyMapUri } : {}),
    ...((first ? first.mapKey : input.emptyMapKey) !== undefined ? { mapKey: first ? first.mapKey : input.emptyMapKey } : {}),
    segments: written,
  };
}

export interface QualityEntryInput {
  rendition: Rendition;
  /** Segments the rendition's media playlist lists, or a meter that counted every one of them. */
  listed: readonly UploadedSegment[] | BandwidthMeter;
  targetDuration: number;
  codecs: string;
  fps: number;
  /** CID of the rendition's media playlist. */
  cid: string;
  /** URI of that playlist as written in the master. */
  uri: string;
  /**
   * The playlist has EXT-X-ENDLIST: BANDWIDTH is then the measured peak;
   * before that (default) at least the configured bound (bandwidthUpperBound).
   */
  final?: boolean;
  /** AAC bitrate in kbit/s; default: the encoder's default when `codecs` lists mp4a, else 0. */
  audioBitrate?: number;
}

/** The registry's quality entry and the master's STREAM-INF for one rendition, with measured bit rates. */
export function qualityEntry(input: QualityEntryInput): { quality: VariantStreamRecord; variant: VariantStream } {
  const { rendition, codecs, fps, cid } = input;
  const audioKbps = input.audioBitrate ?? (/\bmp4a\./.test(codecs) ? DEFAULT_AUDIO_BITRATE : 0);
  const { bandwidth, averageBandwidth } = variantBandwidth(input.listed, input.targetDuration, rendition.bitrate, {
    live: input.final !== true, fps, audioKbps,
  });
  return {
    quality: {
      cid, width: rendition.width, height: rendition.height, bitrate: rendition.bitrate,
      bandwidth, averageBandwidth: averageBandwidth ?? bandwidth, codecs, frameRate: fps,
    },
    variant: {
      uri: input.uri, bandwidth, averageBandwidth, codecs,
      resolution: { width: rendition.width, height: rendition.height }, frameRate: fps, name: rendition.name,
    },
  };
}
