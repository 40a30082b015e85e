// File input: the addon demuxes and decodes a file itself and feeds its frames
// (native pixel format) into the same ladder. ffmpeg makes the clips, ffprobe
// judges the segments: codecs, sizes per rung, keyframes, exact durations and
// a frame count equal to the input's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { LadderEncoder } from '../../src/encoder/ladder-encoder.js';
import { fileEncoderOptions, outputFrameRate, probeMediaFile, wholeFrameSegment } from '../../src/encoder/media-file.js';
import type { EncodeSummary, SegmentEvent } from '../../src/encoder/types.js';
import { probeBytes, probeFile } from '../support/media.js';

const run = promisify(execFile);

let dir: string;
const clips = { av30: '', video25: '', odd: '', audioOnly: '' };

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-y', ...args]);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'abrcast-file-input-'));
  clips.av30 = join(dir, 'clip.mp4');
  clips.video25 = join(dir, 'video25.mp4');
  clips.odd = join(dir, 'odd.mkv');
  clips.audioOnly = join(dir, 'audio.m4a');
  await Promise.all([
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '3',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clips.av30]),
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
      '-pix_fmt', 'yuv420p', clips.video25]),
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '1', '-vf', 'scale=321:181,format=bgr0', '-c:v', 'ffv1', clips.odd]),
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '1', '-c:a', 'aac', clips.audioOnly]),
  ]);
});
after(() => rm(dir, { recursive: true, force: true }));

interface Encoded {
  segments: SegmentEvent[];
  summary: EncodeSummary;
  seconds: number;
  progress: number[];
}

async function encodeFile(source: string, options: Parameters<typeof LadderEncoder.fromFile>[1] = {}): Promise<Encoded> {
  const encoder = await LadderEncoder.fromFile(source, { encoder: 'x264', x264Preset: 'ultrafast', segmentDuration: 1, ...options });
  const segments: SegmentEvent[] = [];
  const progress: number[] = [];
  encoder.on('segment', (segment) => segments.push(segment));
  encoder.on('progress', ({ frames }) => progress.push(frames));
  const startedAt = performance.now();
  encoder.start();
  const summary = await encoder.close();
  return { segments, summary, seconds: (performance.now() - startedAt) / 1000, progress };
}

async function inputFrameCount(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  return Number(stdout.trim());
}

describe('probeMediaFile', () => {
  test('reads size, rate, length and audio of a file', async () => {
    const info = await probeMediaFile(clips.av30);
    assert.equal(info.width, 640);
    assert.equal(info.height, 360);
    assert.equal(info.fps, 30);
    assert.deepEqual([info.fpsNum, info.fpsDen], [30, 1]);
    assert.ok(Math.abs(info.durationSeconds! - 3) < 0.1, String(info.durationSeconds));
    assert.equal(info.frames, 90);
    assert.equal(info.pixelFormat, 'yuv420p');
    assert.equal(info.videoCodec, 'h264');
    assert.equal(info.hasAudio, true);
    assert.equal(info.audioCodec, 'aac');
    const silent = await probeMediaFile(clips.video25);
    assert.equal(silent.fps, 25);
    assert.equal(silent.hasAudio, false);
  });

  test('a missing file and an audio-only file fail with the path and the reason', async () => {
    const missing = join(dir, 'missing.mp4');
    await assert.rejects(probeMediaFile(missing), { message: `Cannot open input ${missing}: No such file or directory` });
    await assert.rejects(probeMediaFile(clips.audioOnly), { message: `No video stream in ${clips.audioOnly}` });
    // The encoder opens the file itself too (off the JS thread), and says the same.
    await assert.rejects(
      LadderEncoder.open({ width: 640, height: 360, fps: 30, input: { file: missing }, encoder: 'x264' }),
      { message: `Cannot open input ${missing}: No such file or directory` },
    );
  });

  test('frame rates snap to standard ones and segments to whole frames', () => {
    assert.equal(outputFrameRate({ fps: 30000 / 1001 }), 30000 / 1001);
    assert.equal(outputFrameRate({ fps: 24.999 }), 25);
    assert.equal(outputFrameRate({ fps: 0 }), 30);
    assert.ok(Math.abs(wholeFrameSegment(4, 30000 / 1001) - (120 * 1001) / 30000) < 1e-12);
  });
});

describe('LadderEncoder from a file', () => {
  let result: Encoded;
  let inputFrames: number;
  const ladder = [
    { name: 'high', width: 640, height: 360, bitrate: 800 },
    { name: 'low', width: 320, height: 180, bitrate: 300 },
  ];

  before(async () => {
    inputFrames = await inputFrameCount(clips.av30);
    result = await encodeFile(clips.av30, { renditions: ladder });
  });

  test('every frame of the input is encoded once into every rendition', async () => {
    assert.equal(inputFrames, 90);
    assert.equal(result.summary.frames, inputFrames);
    for (const rung of ladder) {
      const mine = result.segments.filter((s) => s.rendition === rung.name).sort((a, b) => a.index - b.index);
      let frames = 0;
      for (const segment of mine) {
        const probe = await probeBytes(segment.data);
        const video = probe.streams.find((s) => s.codec_type === 'video')!;
        assert.equal(video.codec_name, 'h264');
        assert.deepEqual([video.width, video.height], [rung.width, rung.height]);
        const streams = (await probeBytes(segment.data, { frames: false })).streams;
        assert.ok(streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac'), 'AAC muxed in');
        assert.equal(probe.frames[0]?.key_frame, 1, `${rung.name}/${segment.index} starts on a keyframe`);
        frames += probe.frames.length;
      }
      assert.equal(frames, inputFrames, `${rung.name} holds every input frame`);
    }
    assert.equal(result.summary.audio?.durationSeconds, 3);
  });

  test('segments last exactly the segment duration, the same in every rendition', () => {
    const byIndex = new Map<number, number[]>();
    for (const s of result.segments) byIndex.set(s.index, [...(byIndex.get(s.index) ?? []), s.duration]);
    assert.equal(byIndex.size, 3, '3 s in 1 s segments');
    for (const durations of byIndex.values()) {
      assert.equal(durations.length, ladder.length);
      for (const duration of durations) assert.ok(Math.abs(duration - 1) < 1e-9, String(duration));
    }
    for (const s of result.segments) assert.match(s.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
  });

  test('progress counts frames as they enter the graph', () => {
    assert.ok(result.progress.length > 0, 'at least one progress event');
    assert.deepEqual(result.progress, [...result.progress].sort((a, b) => a - b), 'never goes back');
    assert.ok(result.progress.every((frames) => frames > 0 && frames <= inputFrames));
  });

  test('write() is refused: the frames come from the file', async () => {
    const encoder = new LadderEncoder(fileEncoderOptions(clips.video25, await probeMediaFile(clips.video25), { encoder: 'x264' }));
    await assert.rejects(encoder.write(new Uint8Array(320 * 240 * 3)), /write\(\) is not available: frames are decoded from/);
    const summary = await encoder.close();
    assert.equal(summary.frames, 0, 'never started: closes empty');
  });
});

describe('other inputs', () => {
  test('25 fps video without audio: 25-frame segments, no audio stream', async () => {
    const { segments, summary } = await encodeFile(clips.video25, { renditions: [{ name: 'sd', width: 320, height: 240, bitrate: 400 }] });
    assert.equal(summary.frames, 50);
    assert.equal(summary.audio, undefined);
    assert.equal(segments.length, 2);
    for (const segment of segments) {
      assert.ok(Math.abs(segment.duration - 1) < 1e-9);
      const probe = await probeBytes(segment.data);
      assert.equal(probe.frames.length, 25);
      assert.ok(!(await probeBytes(segment.data, { frames: false })).streams.some((s) => s.codec_type === 'audio'));
    }
  });

  test('an odd-sized RGB source (ffv1 bgr0 at 321x181) loses its last column and row', async () => {
    const info = await probeMediaFile(clips.odd);
    assert.deepEqual([info.width, info.height], [321, 181]);
    const out = join(dir, 'odd-out');
    const { segments, summary } = await encodeFile(clips.odd, { outputDir: out });
    assert.equal(summary.renditions[0].width, 320);
    assert.equal(summary.renditions[0].height, 180);
    assert.equal(summary.frames, 30);
    const probe = await probeFile(segments[0].path!);
    assert.deepEqual([probe.streams[0].width, probe.streams[0].height], [320, 180]);
  });

  test('--live pacing: a 2 s clip takes about 2 s of wall clock', async () => {
    const { summary, seconds } = await encodeFile(clips.video25, { live: true, renditions: [{ name: 'sd', width: 320, height: 240, bitrate: 400 }] });
    assert.equal(summary.frames, 50);
    // Frame 49 is due 1.96 s after frame 0.
    assert.ok(seconds >= 1.8, `took ${seconds} s`);
  });

  test('stopInput() ends a live encode early; what was read is still published', async () => {
    const encoder = await LadderEncoder.fromFile(clips.av30, { live: true, encoder: 'x264', x264Preset: 'ultrafast', segmentDuration: 1 });
    encoder.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    encoder.stopInput();
    const summary = await encoder.close();
    assert.ok(summary.frames > 0 && summary.frames < 90, `stopped early at ${summary.frames} frames`);
  });
});
