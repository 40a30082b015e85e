// latency: 'low' (x264 tune=zerolatency): no B-frames, so no frame waits for a later one and a
// segment can leave as soon as its last frame is encoded. The default keeps x264's B-frames.
// Its latency and CPU cost are measured in `npm run bench`, not timed here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { LadderEncoder, type LadderEncoderOptions, type LatencyProfile, type SegmentEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { probeBytes } from '../support/media.js';

const options: LadderEncoderOptions = {
  width: 320, height: 180, fps: 30, segmentDuration: 1, encoder: 'x264', x264Preset: 'veryfast',
  renditions: [{ name: '180p', width: 320, height: 180, bitrate: 400 }],
};

async function pictureTypes(latency: LatencyProfile | undefined): Promise<string[]> {
  const encoder = new LadderEncoder({ ...options, ...(latency ? { latency } : {}) });
  const segments: SegmentEvent[] = [];
  encoder.on('segment', (s) => segments.push(s));
  const frames = new FrameGenerator(320, 180);
  for (let i = 0; i < 60; i++) await encoder.write(frames.frame(i));
  await encoder.close();
  assert.equal(segments.length, 2);
  const types: string[] = [];
  for (const segment of segments) types.push(...(await probeBytes(segment.data)).frames.map((f) => f.pict_type));
  return types;
}

describe('latency option', () => {
  test("'low' encodes without B-frames; the default uses them", async () => {
    const normal = await pictureTypes(undefined);
    const low = await pictureTypes('low');
    assert.equal(low.length, 60);
    assert.ok(normal.includes('B'), `default: ${normal.join('')}`);
    assert.ok(!low.includes('B'), `low: ${low.join('')}`);
  });

  test('an unknown profile is refused, naming the value', () => {
    assert.throws(() => new LadderEncoder({ ...options, latency: 'fast' as never }),
      /^RangeError: Expected one of normal, low for latency but received "fast"$/);
  });
});
