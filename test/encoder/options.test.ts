import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LadderEncoder, probeHardware } from '../../src/index.js';
import { frameRateRational } from '../../src/encoder/options.js';

const base = { width: 320, height: 180, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast' } as const;

describe('LadderEncoder option validation', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp, string]> = [
    ['odd width', { width: 321 }, /^Expected even integer between 16 and 8192 for width but received 321$/, 'RangeError'],
    ['string height', { height: '180' }, /^Expected even integer between 16 and 8192 for height but received "180"$/, 'TypeError'],
    ['zero fps', { fps: 0 }, /^Expected number greater than 0 and at most 240 for fps but received 0$/, 'RangeError'],
    ['negative fps', { fps: -30 }, /for fps but received -30$/, 'RangeError'],
    ['fractional frames per segment', { fps: 30, segmentDuration: 1.01 }, /^Expected a whole number of frames at 30 fps \(e\.g\. 1\) for segmentDuration but received 1\.01$/, 'RangeError'],
    ['unknown pixel format', { pixelFormat: 'yuv420p' }, /^Expected one of rgb24, rgba, bgra for pixelFormat but received "yuv420p"$/, 'RangeError'],
    ['unknown encoder', { encoder: 'vaapi' }, /^Expected one of auto, x264, nvenc for encoder but received "vaapi"$/, 'RangeError'],
    ['unknown preset', { x264Preset: 'warp' }, /for x264Preset but received "warp"$/, 'RangeError'],
    ['zero frames in flight', { maxFramesInFlight: 0 }, /^Expected integer between 1 and 64 for maxFramesInFlight but received 0$/, 'RangeError'],
    ['upscaled rendition', { renditions: [{ name: 'big', width: 640, height: 360, bitrate: 800 }] }, /no upscaling\) for renditions\[0\]\.width but received 640$/, 'RangeError'],
  ];
  for (const [label, patch, message, name] of cases) {
    test(`rejects ${label}`, () => {
      assert.throws(() => new LadderEncoder({ ...base, ...patch } as never), (error: Error) => {
        assert.equal(error.name, name);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('NTSC and integer rates become exact rationals', () => {
    assert.deepEqual(frameRateRational(29.97), { num: 2997, den: 100 });
    assert.deepEqual(frameRateRational(30000 / 1001), { num: 30000, den: 1001 });
    assert.deepEqual(frameRateRational(25), { num: 25, den: 1 });
  });
});

describe('LadderEncoder write/close misuse', () => {
  test('a frame of the wrong size names both sizes and keeps the caller stack', async () => {
    const encoder = new LadderEncoder(base);
    await assert.rejects(encoder.write(Buffer.alloc(100)), (error: Error) => {
      assert.equal(error.name, 'RangeError');
      assert.equal(error.message, 'Expected frame of 172800 bytes (320x180 rgb24) but received 100');
      assert.match(error.stack ?? '', /options\.test\.ts/);
      return true;
    });
    await assert.rejects(encoder.write('frame' as never), /Expected Buffer or Uint8Array for frame but received "frame"/);
    const summary = await encoder.close();
    assert.equal(summary.frames, 0);
  });

  test('write after close rejects clearly', async () => {
    const encoder = new LadderEncoder(base);
    await encoder.write(Buffer.alloc(320 * 180 * 3));
    const closing = encoder.close();
    await assert.rejects(encoder.write(Buffer.alloc(320 * 180 * 3)), /Cannot write a frame after close\(\) was called/);
    const summary = await closing;
    assert.equal(summary.frames, 1);
    assert.equal(await encoder.close(), summary, 'close() twice returns the same result');
  });
});

describe('encoder selection without NVENC', async () => {
  const report = await probeHardware();
  test('probeHardware explains why there is no NVENC', { skip: report.nvenc && 'this machine has NVENC' }, () => {
    assert.equal(report.nvenc, false);
    assert.equal(typeof report.reason, 'string');
    assert.ok(report.reason!.length > 0);
    if (!report.cuda) assert.match(report.reason!, /^no CUDA device/);
  });

  test('auto falls back to x264 and says why', { skip: report.nvenc && 'this machine has NVENC' }, async () => {
    const encoder = new LadderEncoder({ ...base, encoder: 'auto' });
    assert.equal(encoder.encoder, 'x264');
    assert.equal(encoder.fallbackReason, report.reason);
    const summary = await encoder.close();
    assert.equal(summary.encoder, 'x264');
    assert.equal(summary.fallbackReason, report.reason);
  });

  test('nvenc is refused with the same reason, never silently replaced', { skip: report.nvenc && 'this machine has NVENC' }, () => {
    assert.throws(() => new LadderEncoder({ ...base, encoder: 'nvenc' }), (error: Error) => {
      assert.equal(error.message, `Cannot use encoder nvenc: ${report.reason}`);
      return true;
    });
  });
});
