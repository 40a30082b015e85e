// Files and URLs as encoder input: what probeMediaFile() reads from them, and
// the LadderEncoder options that encode one (size and rate from the file).
import { AbrcastError, invalidParameterError, isPositiveFinite } from '../errors.js';
import { loadNativeAddon, type NativeMediaInfo } from '../native/binding.js';
import { frameRateRational, normalizeIoTimeout } from './options.js';
import type { FileEncoderOptions, LadderEncoderOptions, MediaInfo } from './types.js';

/** Used when a file does not say its frame rate. */
export const FALLBACK_FPS = 30;

/**
 * Opens a file or URL (anything libavformat opens) and reads its video stream's size, frame rate and
 * length, and whether it has audio. Rejects with "Cannot open input <source>: <reason>" or
 * "No video stream in <source>".
 */
export async function probeMediaFile(source: string, options: { ioTimeout?: number } = {}): Promise<MediaInfo> {
  if (typeof source !== 'string' || source.length === 0) throw invalidParameterError('source', 'non-empty string path or URL', source);
  const ioTimeout = normalizeIoTimeout(options.ioTimeout);
  let native: NativeMediaInfo;
  try {
    native = await loadNativeAddon().probeMedia(source, ioTimeout);
  } catch (cause) {
    throw new AbrcastError(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  const fps = native.fpsNum > 0 && native.fpsDen > 0 ? native.fpsNum / native.fpsDen : 0;
  return {
    width: native.width,
    height: native.height,
    fps,
    fpsNum: native.fpsNum,
    fpsDen: native.fpsDen,
    ...(native.durationSeconds !== undefined ? { durationSeconds: native.durationSeconds } : {}),
    ...(native.frames !== undefined ? { frames: native.frames } : {}),
    pixelFormat: native.pixelFormat,
    videoCodec: native.videoCodec,
    hasAudio: native.audioCodec !== undefined,
    ...(native.audioCodec !== undefined ? { audioCodec: native.audioCodec } : {}),
    formatName: native.formatName,
  };
}

/**
 * A standard rate close to the file's: whole numbers and NTSC rates (n/1.001) exactly, others to
 * two decimals; FALLBACK_FPS when the file has none. Frames are retimed to this rate.
 */
export function outputFrameRate(info: Pick<MediaInfo, 'fps'>): number {
  const fps = info.fps;
  if (!(fps > 0) || !Number.isFinite(fps)) return FALLBACK_FPS;
  const whole = Math.round(fps);
  if (Math.abs(fps - whole) < 0.01) return whole;
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.01) return (ntsc * 1000) / 1001;
  return Math.round(fps * 100) / 100;
}

/** The nearest segment duration that is a whole number of frames (at least one). */
export function wholeFrameSegment(seconds: number, fps: number): number {
  const { num, den } = frameRateRational(fps);
  const frames = Math.max(1, Math.round((seconds * num) / den));
  return (frames * den) / num;
}

/**
 * LadderEncoder options for encoding `source` as probed: the ladder's source size is the file's
 * (odd sizes lose their last column or row), the rate the file's (see outputFrameRate), the segment
 * duration rounded to whole frames, and the file's own audio unless `options.audio` says otherwise.
 */
export function fileEncoderOptions(source: string, info: MediaInfo, options: FileEncoderOptions = {}): LadderEncoderOptions {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { fps: fpsOption, live, audio, segmentDuration, ...rest } = options;
  if (fpsOption !== undefined && (!isPositiveFinite(fpsOption) || fpsOption > 240)) {
    throw invalidParameterError('fps', 'number greater than 0 and at most 240', fpsOption);
  }
  if (segmentDuration !== undefined && (!isPositiveFinite(segmentDuration) || segmentDuration > 60)) {
    throw invalidParameterError('segmentDuration', 'number of seconds greater than 0 and at most 60', segmentDuration);
  }
  const fps = fpsOption ?? outputFrameRate(info);
  const width = info.width - (info.width % 2);
  const height = info.height - (info.height % 2);
  const audioOption = audio === false ? undefined : audio ?? (info.hasAudio ? { source } : undefined);
  return {
    ...rest,
    width,
    height,
    fps,
    segmentDuration: wholeFrameSegment(segmentDuration ?? 4, fps),
    input: { file: source, live: live ?? false },
    ...(audioOption ? { audio: audioOption } : {}),
  };
}
