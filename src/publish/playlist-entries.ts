// The pieces of a publish that the live publisher and finalizeRun (rebuilding a
// dead run from the registry) must agree on: how listed segments become a media
// playlist, and how a rendition becomes a quality entry and a master variant.
import type { Rendition } from '../encoder/types.js';
import { variantBandwidth } from '../hls/bandwidth.js';
import type { UploadedSegment } from '../hls/contiguous-segments.js';
import type { CidUrl } from '../hls/segment-url.js';
import type { MediaPlaylist, VariantStream } from '../hls/types.js';
import type { QualityInfo } from './types.js';

export interface EventPlaylistInput {
  targetDuration: number;
  /** The contiguous prefix 0..k-1 of one rendition. */
  segments: readonly UploadedSegment[];
  segmentUrl: CidUrl;
  /** Adds EXT-X-ENDLIST. */
  endList: boolean;
  /** Wall-clock time of frame 0, written on segment 0. */
  startTime?: Date;
}

export function eventMediaPlaylist(input: EventPlaylistInput): MediaPlaylist {
  return {
    targetDuration: input.targetDuration,
    mediaSequence: 0,
    // EVENT stays after the end too: RFC 8216 lets a live playlist only grow and gain ENDLIST.
    playlistType: 'EVENT',
    independentSegments: true,
    endList: input.endList,
    segments: input.segments.map((segment) => ({
      duration: segment.duration,
      uri: input.segmentUrl(segment.cid),
      ...(segment.index === 0 && input.startTime ? { programDateTime: input.startTime } : {}),
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
}

/** The registry's quality entry and the master's STREAM-INF for one rendition, with measured bit rates. */
export function qualityEntry(input: QualityEntryInput): { quality: QualityInfo; variant: VariantStream } {
  const { rendition, codecs, fps, cid } = input;
  const { bandwidth, averageBandwidth } = variantBandwidth(input.listed, input.targetDuration, rendition.bitrate);
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
