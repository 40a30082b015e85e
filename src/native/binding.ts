// Loads the C++ addon: a prebuild from prebuilds/ or a local build/Release,
// found by node-gyp-build. When neither loads, the error says what to do.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options object the native constructor reads; TS has validated every field. */
export interface NativeEncoderConfig {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  pixelFormat: string;
  framesPerSegment: number;
  container?: 'ts' | 'fmp4';
  /** LL-HLS parts every this many frames within a segment; absent: no parts. */
  framesPerPart?: number;
  encoder: 'x264' | 'nvenc';
  x264Preset: string;
  nvencPreset: string;
  nvencTune: string;
  scaleFlags: string;
  /** latency: 'low' (x264 tune=zerolatency, NVENC zerolatency). */
  lowLatency: boolean;
  maxFramesInFlight: number;
  /** This encoder's share of the thread budget; absent: budget / live encoders. */
  threads?: number;
  /** Seconds to open an input and for each network read; default 30. */
  ioTimeout?: number;
  outputDir: string;
  renditions: Array<{ name: string; width: number; height: number; bitrate: number }>;
  audio?: NativeAudioConfig;
  /** Frames decoded from this file or URL inside the addon; write() is then refused. */
  input?: { file: string; live: boolean };
  /** Frames come through writeCuda() from CUDA memory; write() is then refused. */
  cudaFrames: boolean;
  /** Extra AVOptions for every video encoder; one the encoder does not take fails the open, named. */
  encoderOptions?: Record<string, string>;
  /** Thumbnails this wide (16 or more); absent: none. */
  thumbnailWidth?: number;
  /** MPEG-TS declares a timed ID3 stream for writeMetadata(). */
  timedMetadata?: boolean;
}

/** A frame in CUDA device memory, as TS validated it. */
export interface NativeDeviceFrame {
  cudaDevicePtr: bigint;
  pitch: number;
}

/** Audio encoded once (AAC-LC, 48 kHz stereo) into every rendition; `bitrate` in kbit/s. */
export type NativeAudioConfig =
  | { kind: 'file'; source: string; bitrate: number; shortest: boolean }
  | { kind: 'pcm'; sampleRate: number; channels: number; maxQueuedSamples: number; bitrate: number; shortest: boolean };

export type NativeEvent =
  | { type: 'ready' }
  | { type: 'init'; rendition: string; codecs: string; path?: string; data: Buffer }
  | { type: 'part'; rendition: string; segmentIndex: number; partIndex: number; startFrame: number; durationFrames: number; independent: boolean; codecs: string; data: Buffer }
  | {
    type: 'segment'; rendition: string; index: number; startFrame: number; durationFrames: number; ptsOffset: number; codecs: string;
    path?: string; data: Buffer; iframes: Array<{ offset: number; length: number; frame: number }>;
  }
  | { type: 'thumbnail'; rendition: string; segmentIndex: number; startFrame: number; width: number; height: number; data: Buffer }
  | { type: 'warning'; message: string }
  | { type: 'drain'; queued: number }
  | { type: 'released'; id: number }
  | { type: 'audioDrain'; queued: number }
  | { type: 'progress'; frames: number }
  | { type: 'error'; message: string }
  | { type: 'finished'; frames: number; failed: boolean; audioSamples?: number; renditions: Array<{ segments: number; bytes: number }> };

export interface NativeLadderEncoder {
  /**
   * Queues the frame, keeping a reference to it: the CPU path reads it in place, the GPU path copies
   * it. Event 'released' with `id` follows once nothing reads it any more (converted, copied,
   * refused or dropped). Returns frames now queued, or -1 once the pipeline takes no more.
   */
  write(frame: Uint8Array, id: number): number;
  /** cudaFrames: converts (NVENC) or copies (x264) the device frame; returns as write() does. */
  writeCuda(frame: NativeDeviceFrame): number;
  /** Copies interleaved float32 PCM; returns sample frames now queued, or -1 once the pipeline takes no more. */
  writeAudio(samples: Float32Array): number;
  /** Timed metadata for every rendition: `time` and `duration` in seconds (duration < 0: unknown); false once the pipeline takes no more. */
  writeMetadata(time: number, id3: Uint8Array, duration: number, id: number): boolean;
  /** File input: start decoding (at once, or once open). Throws when called twice. */
  start(): void;
  /** No more frames; with file input: stop reading it. */
  end(): void;
  abort(): void;
  dispose(): void;
  ref(): void;
  unref(): void;
  /** The threads it was planned (x264Threads per rendition, in order); undefined once disposed. */
  threadPlan(): NativeThreadPlan | undefined;
}

/** native/src/config.h's ThreadPlan; LadderEncoder.threadPlan is this with x264Threads by rendition name. */
export interface NativeThreadPlan {
  /** CPUs this process may use: its affinity mask, bounded by a cgroup (or Windows job) CPU quota. */
  usableCpus: number;
  /** How `usableCpus` was counted, e.g. `affinity 2 CPUs, cgroup v2 cpu.max 150000 100000 (/sys/fs/cgroup/app)`. */
  cpuSource: string;
  /** The process's thread budget when this encoder was created. */
  budget: number;
  /** Whether setThreadBudget() set it (otherwise it is `usableCpus`). */
  budgetSet: boolean;
  /** Encoders the budget was split among, this one included. */
  encoders: number;
  /** This encoder's threads: `floor(budget / encoders)`, at least 1, or the `threads` option. */
  share: number;
  /** Whether the `threads` option set `share`. */
  shareSet: boolean;
  /** x264's `threads` per rendition, in ladder order; empty with NVENC. */
  x264Threads: number[];
  /** Helper threads of the CPU scaler of write()'s frames, besides the encoder's graph thread. */
  scalerThreads: number;
  /** Row bands the scaler converts RGB to YUV in. */
  conversionBands: number;
  /** File input: the video decoder's threads. */
  decoderThreads: number;
}

/** The process's thread budget now (getThreadBudget()). */
export interface NativeThreadBudget {
  /** What the next encoder's share is cut from. */
  threads: number;
  /** Whether setThreadBudget() set it (otherwise it is `usableCpus`). */
  set: boolean;
  /** CPUs this process may use now (affinity and CPU quota). */
  usableCpus: number;
  /** How `usableCpus` was counted. */
  cpuSource: string;
  /** Encoders open now in this process (all of its threads and workers). */
  liveEncoders: number;
}

export interface NativeHardwareReport {
  cuda: boolean;
  nvenc: boolean;
  device?: string;
  reason?: string;
}

/** What probeMedia() reads from a file or URL; fpsNum/fpsDen are 0/1 when unknown. */
export interface NativeMediaInfo {
  width: number;
  height: number;
  fpsNum: number;
  fpsDen: number;
  /** Unknown for live streams and some raw formats. */
  durationSeconds?: number;
  /** Frame count, when the container records one. */
  frames?: number;
  /** FFmpeg's name, e.g. yuv420p. */
  pixelFormat: string;
  /** e.g. h264 */
  videoCodec: string;
  audioCodec?: string;
  /** libavformat's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
}

export interface NativeAddon {
  NativeLadderEncoder: new (config: NativeEncoderConfig, onEvent: (event: NativeEvent) => void) => NativeLadderEncoder;
  probeHardware(width: number, height: number): NativeHardwareReport;
  /** The same on a worker thread. */
  probeHardwareAsync(width: number, height: number): Promise<NativeHardwareReport>;
  /** Rejects with "Cannot open input <source>: <reason>" or "No video stream in <source>"; off the JS thread. */
  probeMedia(source: string, timeoutSeconds?: number): Promise<NativeMediaInfo>;
  /** One frame through the ladder's filter graph (CPU or CUDA); the scaled frames as packed yuv420p. */
  scaleLadderFrame(
    config: NativeEncoderConfig,
    frame: Uint8Array | NativeDeviceFrame,
    useCuda: boolean,
  ): Array<{ name: string; width: number; height: number; pixelFormat: string; onGpu: boolean; data: Buffer }>;
  ffmpegVersions(): Record<string, string>;
  /** 0: back to the CPUs this process may use. Applies to encoders created after. */
  setThreadBudget(threads: number): void;
  threadBudget(): NativeThreadBudget;
  /** Test support: copies rows of `rowBytes` into new CUDA memory of `pitch` bytes a row. */
  uploadToCuda(data: Uint8Array, rowBytes: number, pitch: number): bigint;
  freeCuda(pointer: bigint): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let cached: NativeAddon | undefined;

export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
  // ABRCAST_NATIVE_PATH loads one specific build, e.g. the AddressSanitizer one.
  const override = process.env.ABRCAST_NATIVE_PATH;
  try {
    cached = override ? (require(override) as NativeAddon) : nodeGypBuild(packageRoot);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new Error(
      [
        `Could not load the abrcast native module: ${reason}`,
        'Possible solutions:',
        '- Build it against the system FFmpeg: install cmake, a C++17 compiler and the FFmpeg dev packages',
        '  (Debian/Ubuntu: apt-get install cmake g++ pkg-config libavcodec-dev libavformat-dev libavfilter-dev',
        '   libswscale-dev libavutil-dev libswresample-dev libx264-dev libffmpeg-nvenc-dev), then run `npm rebuild abrcast`.',
        `- Use a platform with a prebuilt binary (linux-x64 or linux-arm64 with glibc, win32-x64). This one is ${process.platform}-${process.arch}.`,
      ].join('\n'),
      { cause },
    );
  }
  return cached;
}
