// GPU path checks. They run where a CUDA device exists (test/gpu/run-on-gpu.sh
// on an NVIDIA machine) and are skipped, with the reason, everywhere else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LadderEncoder, previewLadderFrame, probeHardware, type SegmentEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { probeBytes } from '../support/media.js';
import { psnr } from '../support/psnr.js';

const report = await probeHardware();
const noCuda = !report.cuda && `no CUDA device here: ${report.reason}`;
const noNvenc = !report.nvenc && `no NVENC here: ${report.reason}`;

describe('hardware probe on a CUDA machine', () => {
  test('names the GPU', { skip: noCuda }, () => {
    assert.equal(report.cuda, true);
    assert.match(report.device ?? '', /\S/);
  });

  test('without NVENC, auto falls back to x264 with the GPU named in the reason', { skip: noCuda || (report.nvenc && 'this GPU has NVENC') }, async () => {
    assert.match(report.reason ?? '', /NVENC not available on this GPU|driver too old/);
    const encoder = new LadderEncoder({ width: 640, height: 360, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast' });
    assert.equal(encoder.encoder, 'x264');
    assert.equal(encoder.fallbackReason, report.reason);
    await encoder.close();
    assert.throws(() => new LadderEncoder({ width: 640, height: 360, fps: 30, encoder: 'nvenc' }), /Cannot use encoder nvenc: /);
  });
});

describe('CUDA scaling', () => {
  // The GPU path's one upload and scale_cuda per rendition, downloaded and
  // compared with the CPU path's swscale output. Runs on any CUDA GPU, NVENC or not.
  test('scale_cuda gives every rendition the CPU picture (PSNR > 40 dB)', { skip: noCuda }, async () => {
    const frame = Buffer.from(new FrameGenerator(1920, 1080).frame(42));
    const options = { width: 1920, height: 1080, fps: 30 };
    const cpu = await previewLadderFrame(options, frame, { device: 'cpu' });
    const gpu = await previewLadderFrame(options, frame, { device: 'cuda' });
    assert.deepEqual(gpu.map((f) => [f.name, f.width, f.height, f.onGpu]), cpu.map((f) => [f.name, f.width, f.height, true]));
    for (const [i, scaled] of gpu.entries()) {
      const db = psnr(scaled.data, cpu[i]!.data);
      console.log(`# ${scaled.name}: scale_cuda vs swscale ${db.toFixed(2)} dB`);
      assert.ok(db > 40, `${scaled.name}: ${db.toFixed(2)} dB`);
    }
  });
});

describe('NVENC ladder', () => {
  test('segments line up across renditions exactly as on the CPU path', { skip: noNvenc, timeout: 120_000 }, async () => {
    const encoder = new LadderEncoder({ width: 1920, height: 1080, fps: 30, segmentDuration: 1, encoder: 'nvenc' });
    assert.equal(encoder.encoder, 'nvenc');
    const segments: SegmentEvent[] = [];
    encoder.on('segment', (s) => segments.push(s));
    const frames = new FrameGenerator(1920, 1080);
    for (let i = 0; i < 75; i++) await encoder.write(frames.frame(i));
    const summary = await encoder.close();
    assert.equal(summary.encoder, 'nvenc');
    for (const index of [0, 1, 2]) {
      const same = segments.filter((s) => s.index === index);
      assert.equal(same.length, encoder.renditions.length);
      for (const s of same) assert.equal(s.startPts, same[0]!.startPts);
    }
    for (const s of segments) {
      const probe = await probeBytes(s.data);
      const rung = encoder.renditions.find((r) => r.name === s.rendition)!;
      assert.equal(probe.streams[0]!.width, rung.width);
      assert.equal(probe.frames[0]!.key_frame, 1);
    }
  });
});
