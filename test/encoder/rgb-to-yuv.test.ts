// The CPU path's RGB-to-YUV step (native/src/yuv-convert.cc) against ffmpeg's BT.709 limited-range
// conversion with the same chroma filter (swscale's bilinear): every plane within 1 code value, for
// each pixel format write() takes, on a size that is no multiple of 16 and rows as packed as the
// caller's (pitches of 1926 and 2568 bytes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { previewLadderFrame, type PixelFormat } from '../../src/index.js';

const width = 642;
const height = 362;

/** Hard edges, gradients, saturated colours and noise: every corner of the matrix is exercised. */
function testPicture(format: PixelFormat): Buffer {
  const bpp = format === 'rgb24' ? 3 : 4;
  const out = Buffer.alloc(width * height * bpp);
  let state = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1103515245 + 12345) >>> 0;
      const noise = state >>> 24;
      const block = ((x >> 4) + (y >> 4)) % 4;
      const r = block === 0 ? 255 : block === 1 ? 0 : (x * 255) / width + (noise & 31);
      const g = block === 2 ? noise : (y * 255) / height;
      const b = block === 3 ? 255 - noise : (x + y) & 255;
      const o = (y * width + x) * bpp;
      const rgb = [Math.min(255, r), g, b];
      if (format === 'bgra') rgb.reverse();
      out[o] = rgb[0]!;
      out[o + 1] = rgb[1]!;
      out[o + 2] = rgb[2]!;
      if (bpp === 4) out[o + 3] = noise; // alpha is ignored
    }
  }
  return out;
}

function ffmpegYuv(pixels: Buffer, format: PixelFormat): Buffer {
  const result = spawnSync('ffmpeg', [
    '-v', 'error', '-f', 'rawvideo', '-pix_fmt', format, '-s', `${width}x${height}`, '-i', '-',
    '-vf', 'scale=out_color_matrix=bt709:out_range=tv:flags=bilinear+accurate_rnd,format=yuv420p',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
  ], { input: pixels, maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return result.stdout;
}

/** Largest difference per plane (Y, U, V) of two packed yuv420p pictures. */
function maxDifference(a: Buffer, b: Buffer): number[] {
  assert.equal(a.length, b.length);
  const lumaBytes = width * height;
  const chromaBytes = lumaBytes / 4;
  const ranges = [[0, lumaBytes], [lumaBytes, lumaBytes + chromaBytes], [lumaBytes + chromaBytes, a.length]];
  return ranges.map(([start, end]) => {
    let max = 0;
    for (let i = start!; i < end!; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
    return max;
  });
}

describe('RGB to BT.709 YUV 4:2:0 on the CPU', () => {
  const ladder = [{ name: 'full', width, height, bitrate: 1000 }];

  for (const format of ['rgb24', 'rgba', 'bgra'] as const) {
    test(`${format} matches ffmpeg within 1 code value in every plane`, async () => {
      const pixels = testPicture(format);
      const [frame] = await previewLadderFrame({ width, height, fps: 30, pixelFormat: format, renditions: ladder }, pixels);
      assert.deepEqual(maxDifference(frame!.data, ffmpegYuv(pixels, format)).map((d) => d <= 1), [true, true, true],
        `${format}: largest difference per plane ${maxDifference(frame!.data, ffmpegYuv(pixels, format)).join(', ')}`);
    });
  }
});
