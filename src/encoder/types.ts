// Public types of the encoder core. Later layers (publisher, registry, server)
// depend on these shapes, never on the native binding.
import type { NativeMediaInfo, NativeThreadBudget, NativeThreadPlan } from '../native/binding.js';

export type PixelFormat = 'rgb24' | 'rgba' | 'bgra';
export type EncoderChoice = 'auto' | 'x264' | 'nvenc';
export type ActiveEncoder = 'x264' | 'nvenc';
export type Container = 'ts' | 'fmp4';
export type ScaleAlgorithm = 'fast_bilinear' | 'bilinear' | 'bicubic' | 'lanczos' | 'spline' | 'area';
/** `low`: no lookahead, no B-frames, sliced instead of frame threads (x264 tune=zerolatency; NVENC zerolatency, no output delay). */
export type LatencyProfile = 'normal' | 'low';

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
  /**
   * Segment format (default 'ts'). 'fmp4': CMAF, an `init` event per rendition (ftyp + moov), then
   * segments of moof/mdat fragments; the audio is in the same fragments as the video.
   */
  container?: Container;
  /**
   * Also cut each segment into LL-HLS partial segments of this many seconds (a whole number of
   * frames, at most segmentDuration), each sent as a `part` event as soon as it is muxed. A part
   * ends on a frame boundary in presentation order and is never longer than this. Without
   * B-frames (NVENC, x264 ultrafast or `latency: 'low'`) every part but a segment's last is exactly
   * this long; with x264's B-frames a part ends after the last whole B-frame group that fits, so
   * it can be a few frames shorter. Default: no parts.
   */
  partDuration?: number;
  renditions?: Rendition[];
  encoder?: EncoderChoice;
  x264Preset?: string;
  /**
   * Encoder latency (default 'normal'). 'low' emits each segment as soon as its last frame is
   * encoded, for live use: x264 runs with tune=zerolatency (no lookahead or B-frames, sliced threads),
   * NVENC with zerolatency and no output delay. It costs some quality per bit; see docs/benchmarks.md.
   */
  latency?: LatencyProfile;
  /** swscale algorithm for the per-rendition scalers (default lanczos; docs/api.md says why). */
  scaleAlgorithm?: ScaleAlgorithm;
  /**
   * Frames that may wait between write() and the filter graph before write() holds the caller back
   * (default 4). A Buffer's write() resolves once its frame is converted (the buffer is the caller's
   * again then), so a caller that awaits each write() has one frame waiting; up to
   * 4 x maxFramesInFlight + 8 writes may be pending at once, beyond which write() rejects. With
   * `cudaFrames`, write() resolves at once while at most this many frames wait.
   */
  maxFramesInFlight?: number;
  /**
   * Threads this encoder sizes itself for (x264's frame threads, split among the renditions by
   * their pixels; the scaler's helpers; a file's decoder), instead of its even share of the
   * process's thread budget (see setThreadBudget()). At least one x264 thread per rendition
   * whatever this says. `encoder.threadPlan` shows what was decided.
   */
  threads?: number;
  /**
   * Seconds a file or URL (input or audio source) may take to open, and each network read after it
   * to make progress, before the encoder fails naming it (default 30).
   */
  ioTimeout?: number;
  /**
   * When set, each segment is also written to `outputDir/<rendition>/segment_00000.ts` (`.m4s` for
   * fmp4, with `init.mp4`) before its event.
   */
  outputDir?: string;
  /** Sound for every rendition, encoded once as AAC-LC 48 kHz stereo. */
  audio?: AudioOptions;
  /**
   * Decode the video of this file or URL inside the addon instead of taking write(). width, height
   * and fps must describe it (LadderEncoder.fromFile() fills them in from probeMediaFile()); frames
   * keep their pixel format up to the scaler and are retimed to exactly `fps`. Decoding begins with start().
   */
  input?: FileInputOptions;
  /**
   * write() takes frames already in CUDA memory, `{ cudaDevicePtr, pitch }`, instead of Buffers
   * (default false). Needs a CUDA device. With NVENC the frame is converted to YUV on the GPU and
   * never leaves it; with x264 (including `auto` on a GPU without NVENC) it is copied once to
   * host memory. The pointer must be device memory of GPU 0's primary context, where the CUDA
   * runtime's cudaMalloc allocates, holding `height` rows of `pitch` bytes in `pixelFormat`.
   */
  cudaFrames?: boolean;
  /**
   * A JPEG thumbnail of each segment's first frame, made from the smallest rendition's picture
   * (no second decode) and sent as a `thumbnail` event (default false). `true` is 320 pixels wide;
   * `{ width }` sets the width (even, at most the smallest rendition's). Needs FFmpeg's mjpeg
   * encoder; without it the encoder warns once and sends none.
   */
  thumbnails?: boolean | { width?: number };
  /**
   * Lets writeMetadata() carry timed ID3 metadata in MPEG-TS segments (default false): the PMT then
   * declares a timed ID3 stream (stream type 0x15). fMP4 carries it as emsg boxes either way.
   */
  timedMetadata?: boolean;
}

/** One timed metadata item for writeMetadata(). */
export interface TimedMetadataInput {
  /** Seconds on the stream's clock (a segment's startPts): the item belongs to the frame shown then. */
  time: number;
  /** An ID3v2 tag (see `id3Tag()`), at most 60 KiB. */
  id3: Uint8Array;
  /** Seconds the item applies for; omitted: unknown. */
  duration?: number;
  /** emsg `id` in fMP4 (0 to 2^32-1); default: a counter. */
  id?: number;
}

/**
 * How many threads an encoder runs, decided when it is created (`encoder.threadPlan`). The process
 * has one thread budget (setThreadBudget(), else the CPUs it may use); each encoder's share is the
 * budget divided by the encoders then open, this one included, unless its `threads` option sets it.
 */
export interface ThreadPlan extends Omit<NativeThreadPlan, 'x264Threads' | 'conversionBands'> {
  /** x264's `threads` per rendition (by name); empty with NVENC. */
  x264Threads: Record<string, number>;
}

/** The process's thread budget now (getThreadBudget()). */
export type ThreadBudget = NativeThreadBudget;

/**
 * A frame in CUDA device memory (see `cudaFrames`). write() returns once abrcast has converted
 * or copied it, so the renderer may then reuse the memory; finish rendering into it (synchronize
 * the renderer's stream) before calling write().
 */
export interface CudaDeviceFrame {
  /** Device address of the top-left pixel, e.g. from cudaMalloc/cudaMallocPitch. */
  cudaDevicePtr: bigint | number;
  /** Bytes from one row to the next: at least width x bytes per pixel. */
  pitch: number;
}

export interface FileInputOptions {
  /** Path or URL (anything libavformat opens). */
  file: string;
  /** Pace frames at `fps` on the wall clock, to stream a file as live (default false: as fast as possible). */
  live?: boolean;
}

/** LadderEncoder.fromFile(): the ladder options, with size and rate taken from the file. */
export interface FileEncoderOptions extends Omit<LadderEncoderOptions, 'width' | 'height' | 'fps' | 'pixelFormat' | 'input' | 'audio'> {
  /** Output frame rate (default: the file's, snapped to a standard rate; 30 when it has none). */
  fps?: number;
  live?: boolean;
  /** Default: the file's own audio track when it has one. `false`: no audio. */
  audio?: AudioOptions | false;
}

/** What probeMediaFile() reads from a file or URL without decoding it. */
export interface MediaInfo extends NativeMediaInfo {
  /** Average frame rate; 0 when the container does not say. */
  fps: number;
  hasAudio: boolean;
}

/** File input: frames that have entered the filter graph so far. */
export interface EncodeProgress {
  frames: number;
  /** Media time of those frames. */
  seconds: number;
}

interface AudioCommonOptions {
  /** AAC bitrate in kbit/s (default 128). */
  bitrate?: number;
  /**
   * End with the shorter input (default true, like ffmpeg's -shortest): when the audio ends first, video
   * frames from there on are dropped; when the video ends first, the audio is cut at its end. With false,
   * the video alone sets the length: audio is cut at its end or padded with silence up to it.
   */
  shortest?: boolean;
}

/** Decode a file or URL (anything libavformat opens) in-process. */
export interface AudioFileOptions extends AudioCommonOptions {
  source: string;
}

/** PCM pushed with `writeAudio()`: interleaved float32 samples. */
export interface AudioPcmOptions extends AudioCommonOptions {
  pcm: { sampleRate: number; channels: number };
}

export type AudioOptions = AudioFileOptions | AudioPcmOptions;

/** fmp4: emitted once per rendition, before any of its parts or segments. */
export interface InitEvent {
  rendition: string;
  /** ftyp + moov: the init segment (EXT-X-MAP) every segment and part of the rendition needs. */
  data: Buffer;
  bytes: number;
  /** RFC 6381 codec string, as on SegmentEvent. */
  codecs: string;
  /** Set when `outputDir` was given. */
  path?: string;
}

/**
 * With `partDuration`: emitted as each LL-HLS partial segment is muxed, before its segment's
 * event. A segment's parts, concatenated in order, are byte for byte its `data`.
 */
export interface PartEvent {
  rendition: string;
  segmentIndex: number;
  /** Part number within the segment, from 0. */
  partIndex: number;
  /** Presentation time of the part's first frame, seconds from the start of the run. */
  startPts: number;
  /** Exact duration in seconds; a segment's parts add up to its duration. */
  duration: number;
  /** Starts with the segment's IDR (EXT-X-PART INDEPENDENT=YES): the first part of each segment. */
  independent: boolean;
  /** RFC 6381 codec string, the same as its segment's (so an LL-HLS master can be made before any segment ends). */
  codecs: string;
  bytes: number;
  data: Buffer;
}

/**
 * The `ptsOffset` every segment and part carries (native/src/ts-segmenter.h, fmp4-segmenter.h):
 * a frame shown `t` seconds into the run has the timestamp `t + SEGMENT_PTS_OFFSET_S` in the bytes.
 * What a DASH manifest's presentationTimeOffset is made from (the registry does not record it).
 */
export const SEGMENT_PTS_OFFSET_S = 1.4;

/** Where an I-frame lies in its segment's bytes (EXT-X-BYTERANGE of an I-frame playlist). */
export interface IframeRange {
  /** Bytes from the start of the segment: MPEG-TS from the PAT/PMT that precede it, fMP4 from its fragment's moof. */
  offset: number;
  /** Bytes up to the end of the I-frame (TS: its PES packets; fMP4: its sample in the mdat). */
  length: number;
  /** Presentation time, seconds from the start of the run (as startPts). */
  pts: number;
}

/** With `thumbnails`: a JPEG of a segment's first frame, sent before that segment's event. */
export interface ThumbnailEvent {
  /** The rendition whose picture it was made from (the smallest). */
  rendition: string;
  segmentIndex: number;
  /** Presentation time of the frame, seconds from the start of the run. */
  startPts: number;
  width: number;
  height: number;
  /** JFIF: full-range BT.601 YUV 4:2:0. */
  data: Buffer;
}

/** Emitted once per finished segment of one rendition. */
export interface SegmentEvent {
  rendition: string;
  index: number;
  container: Container;
  /** Presentation time of the segment's first frame, seconds from the start of the run. */
  startPts: number;
  /**
   * Seconds added to every timestamp in the bytes (for MPEG-TS the muxer's delay, as the ffmpeg
   * CLI sets it; fmp4 uses the same): the first frame's PTS in `data` is startPts + ptsOffset
   * (for TS x 90 kHz, modulo 2^33). The same for every segment, rendition and encoder of a run.
   */
  ptsOffset: number;
  /** Exact duration in seconds, from the presentation timestamps. */
  duration: number;
  bytes: number;
  data: Buffer;
  /** RFC 6381 codec string read from the stream's SPS, e.g. `avc1.640028`; with audio `avc1.640028,mp4a.40.2`. */
  codecs: string;
  /** Set when `outputDir` was given: where the segment was written. */
  path?: string;
  /** Every I-frame in `data`, in order; the first is the segment's IDR at offset 0. */
  iframes: IframeRange[];
}

export interface RenditionSummary {
  name: string;
  width: number;
  height: number;
  segments: number;
  bytes: number;
}

export interface EncodeSummary {
  /** Video frames in the output: those written, less any dropped because the audio ended first. */
  frames: number;
  encoder: ActiveEncoder;
  /** Why `auto` did not pick NVENC, when it did not. */
  fallbackReason?: string;
  renditions: RenditionSummary[];
  /** Audio in the output (every rendition carries the same), when audio was configured. */
  audio?: AudioSummary;
}

export interface AudioSummary {
  /** Samples per channel at `sampleRate`. */
  samples: number;
  sampleRate: number;
  durationSeconds: number;
}
