// GPU path checks. They run where a CUDA device exists (test/gpu/run-on-gpu.sh
// on an NVIDIA machine) and are skipped, with the reason, everywhere else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LadderEncoder, previewLadderFrame, probeHardware, type LadderEncoderOptions, type SegmentEvent } from '../../src/index.js';
import { loadNativeAddon } from '../../src/native/binding.js';
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

// A renderer's frame in CUDA memory: rows of `rowBytes` at a padded pitch, as cudaMallocPitch gives.
function withDeviceFrame<T>(pixels: Uint8Array, rowBytes: number, use: (frame: { cudaDevicePtr: bigint; pitch: number }) => Promise<T>): Promise<T> {
  const addon = loadNativeAddon();
  const pitch = rowBytes + 512;
  const cudaDevicePtr = addon.uploadToCuda(pixels, rowBytes, pitch);
  return use({ cudaDevicePtr, pitch }).finally(() => addon.freeCuda(cudaDevicePtr));
}

async function encodeSegments(options: LadderEncoderOptions, frames: FrameGenerator, count: number): Promise<Map<string, Buffer>> {
  const encoder = new LadderEncoder(options);
  const segments = new Map<string, Buffer>();
  encoder.on('segment', (s) => segments.set(`${s.rendition}/${s.index}`, s.data));
  const rowBytes = frames.width * (frames.pixelFormat === 'rgb24' ? 3 : 4);
  for (let i = 0; i < count; i++) {
    const frame = frames.frame(i);
    if (options.cudaFrames) await withDeviceFrame(frame, rowBytes, (device) => encoder.write(device));
    else await encoder.write(frame);
  }
  await encoder.close();
  return segments;
}

describe('CUDA device frames (cudaFrames)', () => {
  test('the RGB-to-YUV kernel then scale_cuda give every rendition the CPU picture (PSNR > 40 dB)', { skip: noCuda }, async () => {
    const options = { width: 1920, height: 1080, fps: 30, pixelFormat: 'rgba' as const };
    const frame = Buffer.from(new FrameGenerator(1920, 1080, 'rgba').frame(42));
    const cpu = await previewLadderFrame(options, frame, { device: 'cpu' });
    await withDeviceFrame(frame, 1920 * 4, async (device) => {
      // Copied to host memory (the x264 path): exactly the Buffer's picture.
      const downloaded = await previewLadderFrame(options, device, { device: 'cpu' });
      for (const [i, scaled] of downloaded.entries()) assert.ok(scaled.data.equals(cpu[i]!.data), scaled.name);
      // Converted on the GPU (the NVENC path).
      const gpu = await previewLadderFrame(options, device, { device: 'cuda' });
      assert.deepEqual(gpu.map((f) => [f.name, f.width, f.height, f.onGpu]), cpu.map((f) => [f.name, f.width, f.height, true]));
      for (const [i, scaled] of gpu.entries()) {
        const db = psnr(scaled.data, cpu[i]!.data);
        console.log(`# ${scaled.name}: kernel + scale_cuda vs swscale ${db.toFixed(2)} dB`);
        assert.ok(db > 40, `${scaled.name}: ${db.toFixed(2)} dB`);
      }
    });
  });

  test('with x264, device frames encode to the same bytes as Buffers', { skip: noCuda, timeout: 120_000 }, async () => {
    const options: LadderEncoderOptions = { width: 640, height: 360, fps: 30, segmentDuration: 1, pixelFormat: 'bgra', encoder: 'x264', x264Preset: 'ultrafast' };
    const fromBuffers = await encodeSegments(options, new FrameGenerator(640, 360, 'bgra'), 45);
    const fromDevice = await encodeSegments({ ...options, cudaFrames: true }, new FrameGenerator(640, 360, 'bgra'), 45);
    assert.deepEqual([...fromDevice.keys()], [...fromBuffers.keys()]);
    for (const [key, data] of fromBuffers) assert.ok(fromDevice.get(key)!.equals(data), key);
  });

  test('auto on a GPU without NVENC takes device frames through x264 and says why', { skip: noCuda || (report.nvenc && 'this GPU has NVENC') }, async () => {
    const encoder = new LadderEncoder({ width: 640, height: 360, fps: 30, cudaFrames: true, x264Preset: 'ultrafast' });
    assert.equal(encoder.encoder, 'x264');
    assert.equal(encoder.fallbackReason, report.reason);
    await encoder.close();
  });

  test('a pointer CUDA does not know, or an allocation too small, is refused before the GPU reads it', { skip: noCuda }, async () => {
    const encoder = new LadderEncoder({ width: 640, height: 360, fps: 30, pixelFormat: 'rgba', cudaFrames: true, encoder: 'x264', x264Preset: 'ultrafast' });
    await assert.rejects(encoder.write({ cudaDevicePtr: 0x1000n, pitch: 2560 }), /^AbrcastError: Expected CUDA device memory for cudaDevicePtr 0x1000 but CUDA does not know it: /);
    const rows = Buffer.alloc(2560 * 100);
    await withDeviceFrame(rows, 2560, async (device) => {
      const needed = device.pitch * 359 + 2560;
      const error = await encoder.write(device).then(() => assert.fail('a short allocation was accepted'), (e: Error) => e);
      const expected = `Expected ${needed} bytes of device memory at cudaDevicePtr 0x${device.cudaDevicePtr.toString(16)} (pitch ${device.pitch} x 360 rows) but its allocation has `;
      assert.equal(error.message.slice(0, expected.length), expected);
      // The driver may round the allocation up, never to 360 rows.
      const has = Number(error.message.slice(expected.length));
      assert.ok(has >= device.pitch * 100 && has < needed, error.message);
    });
    // Refused writes leave the encoder working.
    await withDeviceFrame(new FrameGenerator(640, 360, 'rgba').frame(0), 2560, (device) => encoder.write(device));
    assert.equal((await encoder.close()).frames, 1);
  });

  test('with NVENC, segments from device frames line up and decode', { skip: noNvenc, timeout: 120_000 }, async () => {
    const options: LadderEncoderOptions = { width: 1280, height: 720, fps: 30, segmentDuration: 1, pixelFormat: 'rgba', encoder: 'nvenc', cudaFrames: true };
    const segments = await encodeSegments(options, new FrameGenerator(1280, 720, 'rgba'), 75);
    const ladder = new LadderEncoder({ ...options, encoder: 'x264' }).renditions;
    for (const index of [0, 1, 2]) {
      for (const rung of ladder) {
        const data = segments.get(`${rung.name}/${index}`);
        assert.ok(data, `${rung.name}/${index}`);
        const probe = await probeBytes(data);
        assert.equal(probe.streams[0]!.width, rung.width);
        assert.equal(probe.frames[0]!.key_frame, 1);
      }
    }
  });
});
