// The pieces of a publish that the live publisher and finalizeRun (rebuilding a
// dead run from the registry) must agree on: how listed segments become a media
// playlist, and how a rendition becomes a quality entry and a master variant.
import type { Rendition } from '../encoder/types.js';
import { DEFAULT_AUDIO_BITRATE } from '../encoder/options.js';
import { variantBandwidth } from '../hls/bandwidth.js';
import type { UploadedSegment } from '../hls/contiguous-segments.js';
import { programDateTimes } from '../hls/program-date-time.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist, ResourceKey, SegmentKey, VariantStream } from '../hls/types.js';
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

export interface QualityEntryInput {
  rendition: Rendition;
  /** Segments the rendition's media playlist lists. */
  listed: readonly UploadedSegment[];
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
