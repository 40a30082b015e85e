// Public types of the encoder core. Later layers (publisher, registry, server)
// depend on these shapes, never on the native binding.

export type PixelFormat = 'rgb24' | 'rgba' | 'bgra';
export type EncoderChoice = 'auto' | 'x264' | 'nvenc';
export type ActiveEncoder = 'x264' | 'nvenc';
export type ScaleAlgorithm = 'fast_bilinear' | 'bilinear' | 'bicubic' | 'lanczos' | 'spline' | 'area';

/** One rung of the ladder. `bitrate` is in kbit/s. */
export interface Rendition {
  name: string;
  width: number;
  height: number;
  bitrate: number;
}

export interface LadderEncoderOptions {
  width: number;
  height: number;
  fps: number;
  pixelFormat?: PixelFormat;
  /** Seconds per segment; `fps * segmentDuration` must be a whole number of frames. */
  segmentDuration?: number;
  renditions?: Rendition[];
  encoder?: EncoderChoice;
  x264Preset?: string;
  /** swscale algorithm for the per-rendition scalers (default bicubic). */
  scaleAlgorithm?: ScaleAlgorithm;
  /** Frames that may wait between write() and the filter graph (default 4). */
  maxFramesInFlight?: number;
  /** When set, each segment is also written to `outputDir/<rendition>/segment_00000.ts` before its event. */
  outputDir?: string;
}

/** Emitted once per finished segment of one rendition. */
export interface SegmentEvent {
  rendition: string;
  index: number;
  /** Presentation time of the segment's first frame, seconds from the start of the run. */
  startPts: number;
  /** Exact duration in seconds, from the presentation timestamps. */
  duration: number;
  bytes: number;
  data: Buffer;
  /** RFC 6381 codec string read from the stream's SPS, e.g. `avc1.640028`. */
  codecs: string;
  /** Set when `outputDir` was given: where the segment was written. */
  path?: string;
}

export interface RenditionSummary {
  name: string;
  width: number;
  height: number;
  segments: number;
  bytes: number;
}

export interface EncodeSummary {
  frames: number;
  encoder: ActiveEncoder;
  /** Why `auto` did not pick NVENC, when it did not. */
  fallbackReason?: string;
  renditions: RenditionSummary[];
}
