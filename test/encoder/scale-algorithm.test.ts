// scaleAlgorithm reaches the CPU path's per-rendition scalers (native/src/rendition-scaler.cc): each
// algorithm's picture is ffmpeg's picture with that algorithm, and not another algorithm's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { previewLadderFrame, type ScaleAlgorithm } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { psnr } from '../support/psnr.js';

const width = 1280;
const height = 720;
const rendition = { name: '360p', width: 640, height: 360, bitrate: 800 };

function ffmpegScaled(rgb: Buffer, algorithm: ScaleAlgorithm): Buffer {
  const filter = `scale=out_color_matrix=bt709:out_range=tv:flags=bilinear,format=yuv420p,scale=${rendition.width}:${rendition.height}:flags=${algorithm}`;
  const result = spawnSync('ffmpeg', [
    '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', '-',
    '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
  ], { input: rgb, maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return result.stdout;
}

describe('scaleAlgorithm on the CPU path', () => {
  const frame = Buffer.from(new FrameGenerator(width, height).frame(5));
  const algorithms: ScaleAlgorithm[] = ['fast_bilinear', 'area', 'lanczos'];
  const references = new Map(algorithms.map((a) => [a, ffmpegScaled(frame, a)]));

  for (const algorithm of algorithms) {
    test(`${algorithm}: ffmpeg's ${algorithm} picture, closer to it than to the others`, async () => {
      const [scaled] = await previewLadderFrame({ width, height, fps: 30, renditions: [rendition], scaleAlgorithm: algorithm }, frame);
      const own = psnr(scaled!.data, references.get(algorithm)!);
      assert.ok(own > 45, `${algorithm}: ${own.toFixed(1)} dB against ffmpeg's`);
      for (const other of algorithms.filter((a) => a !== algorithm)) {
        const db = psnr(scaled!.data, references.get(other)!);
        assert.ok(db < own - 3, `${algorithm} is ${db.toFixed(1)} dB from ffmpeg's ${other}, ${own.toFixed(1)} dB from its own`);
      }
    });
  }
});
