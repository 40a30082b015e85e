// The core promise: one 1080p RGB input, the default ladder, segments that
// start on the same IDR in every rendition and decode on their own, in both
// containers (fMP4: each segment with its rendition's init segment).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LadderEncoder, type Container, type EncodeSummary, type InitEvent, type SegmentEvent } from '../../src/index.js';
import { FrameGenerator } from '../support/frames.js';
import { playable, probeBytes } from '../support/media.js';

const FPS = 30;
const SEGMENT_SECONDS = 1;
const FRAMES = 75; // two full segments and a half one

for (const container of ['ts', 'fmp4'] as Container[]) describe(`1080p rgb24 through the default ladder, ${container}`, () => {
  const segments: SegmentEvent[] = [];
  const inits = new Map<string, InitEvent>();
  const order: string[] = [];
  let summary: EncodeSummary;
  let outputDir: string;
  let encoder: LadderEncoder;
  const bytesOf = (s: SegmentEvent) => playable(s.data, inits.get(s.rendition)?.data);

  before(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'abrcast-segments-'));
    encoder = new LadderEncoder({
      width: 1920, height: 1080, fps: FPS, segmentDuration: SEGMENT_SECONDS,
      x264Preset: 'ultrafast', encoder: 'x264', outputDir, container,
    });
    encoder.on('init', (i) => {
      inits.set(i.rendition, i);
      order.push(`init ${i.rendition}`);
    });
    encoder.on('segment', (s) => {
      segments.push(s);
      order.push(`segment ${s.rendition}`);
    });
    const frames = new FrameGenerator(1920, 1080);
    for (let i = 0; i < FRAMES; i++) await encoder.write(frames.frame(i));
    summary = await encoder.close();
  });
  after(() => rm(outputDir, { recursive: true, force: true }));

  test(container === 'fmp4' ? 'one init segment per rendition (ftyp + moov, no samples), before its segments' : 'no init segments', () => {
    if (container === 'ts') {
      assert.equal(inits.size, 0);
      return;
    }
    for (const r of encoder.renditions) {
      const init = inits.get(r.name);
      assert.ok(init, `init of ${r.name}`);
      assert.equal(init.data.subarray(4, 8).toString('latin1'), 'ftyp');
      assert.ok(init.data.includes('moov'), 'has a moov');
      assert.ok(!init.data.includes('moof') && !init.data.includes('mdat'), 'has no fragment');
      assert.equal(init.bytes, init.data.length);
      assert.ok(order.indexOf(`init ${r.name}`) < order.indexOf(`segment ${r.name}`), `init of ${r.name} comes first`);
      for (const s of segments.filter((x) => x.rendition === r.name)) assert.equal(s.codecs, init.codecs);
      assert.equal(init.path, join(outputDir, r.name, 'init.mp4'));
    }
  });

  test('every segment says its container; fMP4 segments are moof/mdat fragments', () => {
    for (const s of segments) {
      assert.equal(s.container, container);
      const box = s.data.subarray(4, 8).toString('latin1');
      if (container === 'fmp4') assert.equal(box, 'moof', `${s.rendition}/${s.index} starts with a moof`);
      else assert.equal(s.data[0], 0x47, 'TS sync byte');
    }
  });

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
      const probe = await probeBytes(bytesOf(s));
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
      const extension = container === 'fmp4' ? 'm4s' : 'ts';
      assert.equal(s.path, join(outputDir, s.rendition, `segment_${String(s.index).padStart(5, '0')}.${extension}`));
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
