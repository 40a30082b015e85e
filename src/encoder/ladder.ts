// The rendition ladder: the Python original's default, and checks for custom ones.
import { invalidParameterError, isInteger } from '../errors.js';
import type { Rendition } from './types.js';

export const RENDITION_NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;

/** Kbit/s for the source rendition, by pixel count (the original's estimate). */
export function estimateBitrate(width: number, height: number): number {
  const pixels = width * height;
  if (pixels >= 3840 * 2160) return 15000;
  if (pixels >= 1920 * 1080) return 5000;
  if (pixels >= 1280 * 720) return 2500;
  if (pixels >= 854 * 480) return 1500;
  return 800;
}

function widthForHeight(sourceWidth: number, sourceHeight: number, height: number): number {
  const width = Math.floor((height * sourceWidth) / sourceHeight);
  return width - (width % 2);
}

/** `original` at source size, plus 720p (2500 kbit/s) and 360p (800 kbit/s) when the source is taller. */
export function defaultLadder(width: number, height: number): Rendition[] {
  if (!isInteger(width) || width < 2) throw invalidParameterError('width', 'integer of at least 2', width);
  if (!isInteger(height) || height < 2) throw invalidParameterError('height', 'integer of at least 2', height);
  const ladder: Rendition[] = [{ name: 'original', width, height, bitrate: estimateBitrate(width, height) }];
  if (height > 720) ladder.push({ name: '720p', width: widthForHeight(width, height, 720), height: 720, bitrate: 2500 });
  if (height > 360) ladder.push({ name: '360p', width: widthForHeight(width, height, 360), height: 360, bitrate: 800 });
  return ladder;
}

/** A ladder from target heights, e.g. [1080, 720, 360], never above the source. */
export function ladderFromHeights(width: number, height: number, heights: number[]): Rendition[] {
  return heights.map((target, i) => {
    if (!isInteger(target) || target < 2 || target > height || target % 2 !== 0) {
      throw invalidParameterError(`heights[${i}]`, `even integer between 2 and ${height}`, target);
    }
    const w = target === height ? width : widthForHeight(width, height, target);
    return { name: `${target}p`, width: w, height: target, bitrate: estimateBitrate(w, target) };
  });
}

/** Checks a custom ladder: even sizes, no upscaling, unique names. Returns copies. */
export function validateLadder(renditions: unknown, sourceWidth: number, sourceHeight: number): Rendition[] {
  if (!Array.isArray(renditions) || renditions.length === 0) {
    throw invalidParameterError('renditions', 'non-empty array of renditions', renditions);
  }
  if (renditions.length > 16) throw invalidParameterError('renditions', 'array of at most 16 renditions', renditions);
  const names = new Set<string>();
  return renditions.map((value, i) => {
    const field = `renditions[${i}]`;
    if (typeof value !== 'object' || value === null) throw invalidParameterError(field, 'object', value);
    const { name, width, height, bitrate } = value as Record<string, unknown>;
    if (typeof name !== 'string' || !RENDITION_NAME_PATTERN.test(name)) {
      throw invalidParameterError(`${field}.name`, 'string of 1 to 32 characters [a-z0-9_-]', name);
    }
    if (names.has(name)) throw invalidParameterError(`${field}.name`, 'unique rendition name', name);
    names.add(name);
    if (!isInteger(width) || width < 2 || width > sourceWidth || width % 2 !== 0) {
      throw invalidParameterError(`${field}.width`, `even integer between 2 and ${sourceWidth} (no upscaling)`, width);
    }
    if (!isInteger(height) || height < 2 || height > sourceHeight || height % 2 !== 0) {
      throw invalidParameterError(`${field}.height`, `even integer between 2 and ${sourceHeight} (no upscaling)`, height);
    }
    if (!isInteger(bitrate) || bitrate < 50 || bitrate > 200_000) {
      throw invalidParameterError(`${field}.bitrate`, 'integer between 50 and 200000 (kbit/s)', bitrate);
    }
    return { name, width, height, bitrate };
  });
}
