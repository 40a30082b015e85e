// previewLadderFrame on the CPU: the frames each rendition's encoder gets.
// They are checked against the ffmpeg CLI doing the same conversion, so the
// CUDA path (test/gpu) can in turn be checked against this one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { defaultLadder, previewLadderFrame, probeHardware } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { psnr } from '../support/psnr.js';

function ffmpegYuv(rgb: Buffer, width: number, height: number, filter: string): Buffer {
  const result = spawnSync('ffmpeg', [
    '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', '-',
    '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-',
  ], { input: rgb, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  return result.stdout;
}

// What the CPU path does: RGB to BT.709 yuv420p, then one scale with `algorithm`.
function scaleFilter(outWidth: number, outHeight: number, algorithm = 'lanczos'): string {
  return `scale=out_color_matrix=bt709:out_range=tv:flags=bilinear,format=yuv420p,scale=${outWidth}:${outHeight}:flags=${algorithm}`;
}

describe('previewLadderFrame on the CPU', () => {
  const width = 1280;
  const height = 720;
  const frame = Buffer.from(new FrameGenerator(width, height).frame(17));

  test('gives every rendition its yuv420p picture, matching ffmpeg doing the same conversion', async () => {
    const frames = await previewLadderFrame({ width, height, fps: 30 }, frame);
    const ladder = defaultLadder(width, height);
    assert.deepEqual(frames.map((f) => [f.name, f.width, f.height, f.pixelFormat, f.onGpu]), ladder.map((r) => [r.name, r.width, r.height, 'yuv420p', false]));
    for (const scaled of frames) {
      assert.equal(scaled.data.length, scaled.width * scaled.height * 1.5);
      const reference = ffmpegYuv(frame, width, height, scaleFilter(scaled.width, scaled.height));
      const db = psnr(scaled.data, reference);
      assert.ok(db > 40, `${scaled.name}: ${db.toFixed(1)} dB against ffmpeg`);
    }
  });

  test('a rendition scaled from a larger one (1080p -> 720p -> 360p) is ffmpeg\'s one-step picture', async () => {
    // 360p is cascaded from the 720p rendition (native/src/rendition-scaler.cc): it must stay as
    // close to ffmpeg's one-step lanczos as a direct scale is (> 45 dB, as in scale-algorithm.test.ts;
    // with a bilinear second step it is 35 dB).
    const big = Buffer.from(new FrameGenerator(1920, 1080).frame(17));
    const renditions = [
      { name: '720p', width: 1280, height: 720, bitrate: 2500 },
      { name: '360p', width: 640, height: 360, bitrate: 800 },
    ];
    for (const scaleAlgorithm of ['lanczos', 'bicubic'] as const) {
      const frames = await previewLadderFrame({ width: 1920, height: 1080, fps: 30, renditions, scaleAlgorithm }, big);
      for (const scaled of frames) {
        const reference = ffmpegYuv(big, 1920, 1080, scaleFilter(scaled.width, scaled.height, scaleAlgorithm));
        const db = psnr(scaled.data, reference);
        assert.ok(db > 45, `${scaleAlgorithm} ${scaled.name}: ${db.toFixed(1)} dB against ffmpeg's one-step scale`);
      }
    }
  });

  test('a different picture is far from the reference, so the check can fail', async () => {
    const [original] = await previewLadderFrame({ width, height, fps: 30 }, frame);
    const other = ffmpegYuv(Buffer.from(new FrameGenerator(width, height).frame(90)), width, height, scaleFilter(width, height));
    assert.ok(psnr(original!.data, other) < 30);
  });

  test('bad frames and devices are refused', async () => {
    await assert.rejects(previewLadderFrame({ width, height, fps: 30 }, Buffer.alloc(10)), /Expected frame of 2764800 bytes \(1280x720 rgb24\) but received 10/);
    await assert.rejects(previewLadderFrame({ width, height, fps: 30 }, frame, { device: 'gpu' as never }), /Expected one of cpu, cuda for device but received "gpu"/);
  });

  test('the CUDA path says clearly why it cannot run here', async (t) => {
    const report = await probeHardware();
    if (report.cuda) return t.skip('this machine has CUDA: test/gpu covers it');
    await assert.rejects(previewLadderFrame({ width, height, fps: 30 }, frame, { device: 'cuda' }), /^AbrcastError: no CUDA device \(/);
  });
});
