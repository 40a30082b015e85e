// The core promise: one 1080p RGB input, the default ladder, segments that
// start on the same IDR in every rendition and decode on their own.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LadderEncoder, type EncodeSummary, type SegmentEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { probeBytes } from '../support/media.js';

const FPS = 30;
const SEGMENT_SECONDS = 1;
const FRAMES = 75; // two full segments and a half one

describe('1080p rgb24 through the default ladder', () => {
  const segments: SegmentEvent[] = [];
  let summary: EncodeSummary;
  let outputDir: string;
  let encoder: LadderEncoder;

  before(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'abrcast-segments-'));
    encoder = new LadderEncoder({
      width: 1920, height: 1080, fps: FPS, segmentDuration: SEGMENT_SECONDS,
      x264Preset: 'ultrafast', encoder: 'x264', outputDir,
    });
    encoder.on('segment', (s) => segments.push(s));
    const frames = new FrameGenerator(1920, 1080);
    for (let i = 0; i < FRAMES; i++) await encoder.write(frames.frame(i));
    summary = await encoder.close();
  });
  after(() => rm(outputDir, { recursive: true, force: true }));

  test('every rendition gets the same number of segments', () => {
    const names = encoder.renditions.map((r) => r.name);
    assert.deepEqual(names, ['original', '720p', '360p']);
    for (const name of names) {
      const indices = segments.filter((s) => s.rendition === name).map((s) => s.index);
      assert.deepEqual(indices, [0, 1, 2], `segments of ${name} arrive in order`);
    }
  });

  test('startPts and durations are equal across renditions and match the segment length', () => {
    for (let index = 0; index < 3; index++) {
      const same = segments.filter((s) => s.index === index);
      assert.equal(same.length, 3);
      for (const s of same) {
        assert.equal(s.startPts, same[0]!.startPts);
        assert.equal(s.duration, same[0]!.duration);
      }
      assert.ok(Math.abs(same[0]!.startPts - index * SEGMENT_SECONDS) < 1e-9);
    }
    const full = segments.filter((s) => s.index < 2);
    for (const s of full) assert.ok(Math.abs(s.duration - SEGMENT_SECONDS) <= 1 / FPS, `duration ${s.duration}`);
    const last = segments.filter((s) => s.index === 2);
    for (const s of last) assert.ok(Math.abs(s.duration - (FRAMES - 2 * FPS) / FPS) < 1e-9, `last duration ${s.duration}`);
  });

  test('each segment decodes standalone, starts with a keyframe and has the ladder resolution', async () => {
    const decodedFrames = new Map<string, number>();
    for (const s of segments) {
      const probe = await probeBytes(s.data);
      const video = probe.streams.find((st) => st.codec_type === 'video');
      assert.ok(video, `video stream in ${s.rendition}/${s.index}`);
      assert.equal(video.codec_name, 'h264');
      const rung = encoder.renditions.find((r) => r.name === s.rendition)!;
      assert.equal(video.width, rung.width);
      assert.equal(video.height, rung.height);
      assert.ok(probe.frames.length > 0);
      assert.equal(probe.frames[0]!.key_frame, 1, `first frame of ${s.rendition}/${s.index} is a keyframe`);
      assert.equal(probe.frames[0]!.pict_type, 'I');
      assert.equal(probe.frames.length, Math.round(s.duration * FPS), `frames in ${s.rendition}/${s.index}`);
      decodedFrames.set(s.rendition, (decodedFrames.get(s.rendition) ?? 0) + probe.frames.length);
    }
    for (const [name, count] of decodedFrames) assert.equal(count, FRAMES, `every frame of ${name} decodes`);
  });

  test('segments carry the codec string of their SPS', () => {
    for (const s of segments) assert.match(s.codecs, /^avc1\.[0-9a-f]{6}$/);
  });

  test('the summary adds up', () => {
    assert.equal(summary.frames, FRAMES);
    assert.equal(summary.encoder, 'x264');
    for (const r of summary.renditions) {
      const mine = segments.filter((s) => s.rendition === r.name);
      assert.equal(r.segments, mine.length);
      assert.equal(r.bytes, mine.reduce((sum, s) => sum + s.bytes, 0));
      for (const s of mine) assert.equal(s.bytes, s.data.length);
    }
  });

  test('with outputDir, each segment is on disk first, byte for byte', async () => {
    for (const s of segments) {
      assert.equal(s.path, join(outputDir, s.rendition, `segment_${String(s.index).padStart(5, '0')}.ts`));
      assert.ok((await readFile(s.path!)).equals(s.data));
    }
  });
});

describe('other inputs', () => {
  for (const pixelFormat of ['rgba', 'bgra'] as const) {
    test(`${pixelFormat} input encodes at an NTSC rate`, async () => {
      const encoder = new LadderEncoder({
        width: 640, height: 360, fps: 30000 / 1001, segmentDuration: 1.001, pixelFormat, x264Preset: 'ultrafast', encoder: 'x264',
      });
      const got: SegmentEvent[] = [];
      encoder.on('segment', (s) => got.push(s));
      const frames = new FrameGenerator(640, 360, pixelFormat);
      for (let i = 0; i < 45; i++) await encoder.write(frames.frame(i));
      const summary = await encoder.close();
      assert.equal(summary.renditions.length, 1);
      assert.deepEqual(got.map((s) => s.index), [0, 1]);
      assert.ok(Math.abs(got[0]!.duration - 1.001) < 1e-9, `duration ${got[0]!.duration}`);
      assert.ok(Math.abs(got[1]!.startPts - 1.001) < 1e-9);
      const probe = await probeBytes(got[1]!.data);
      assert.equal(probe.frames[0]!.key_frame, 1);
    });
  }
});
