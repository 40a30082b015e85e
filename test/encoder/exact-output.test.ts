// What the segment events say is what the bytes hold, as ffprobe reads them:
// the last segment under `shortest` with x264 B-frames ends exactly (no frame
// past the end, no gap, the same end in every rendition and in the audio), and
// startPts + ptsOffset is the PTS of each segment's first frame (issue 14,
// findings 5 and 6).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { LadderEncoder } from '../../src/index.js';
import type { EncodeSummary, LadderEncoderOptions, SegmentEvent } from '../../src/encoder/types.js';

const run = promisify(execFile);
const FPS = 30;

interface ProbedPacket { codec_type: string; pts_time: string; duration_time?: string }

/** Every packet of a segment (video and audio), in file order, through ffprobe. */
async function probePackets(data: Uint8Array): Promise<ProbedPacket[]> {
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-exact-'));
  try {
    const path = join(dir, 'segment.ts');
    await writeFile(path, data);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', 'packet=codec_type,pts_time,duration_time', '-show_streams', path],
      { maxBuffer: 64 * 1024 * 1024 });
    return (JSON.parse(stdout) as { packets: ProbedPacket[] }).packets;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const threeRungs = [
  { name: '180p', width: 320, height: 180, bitrate: 300 },
  { name: '144p', width: 256, height: 144, bitrate: 2000 },
  { name: '90p', width: 160, height: 90, bitrate: 60 },
];

/** 60 frames of moving video; PCM audio for `audioFrames` of them only, written alongside. */
async function encode(options: Partial<LadderEncoderOptions>, audioFrames?: number): Promise<{ segments: SegmentEvent[]; summary: EncodeSummary }> {
  const encoder = new LadderEncoder({
    width: 320, height: 180, fps: FPS, segmentDuration: 1, x264Preset: 'veryfast', encoder: 'x264', renditions: threeRungs, ...options,
  } as LadderEncoderOptions);
  const segments: SegmentEvent[] = [];
  encoder.on('segment', (s) => segments.push(s));
  const frame = Buffer.alloc(320 * 180 * 3);
  for (let i = 0; i < 60; i++) {
    for (let p = 0; p < frame.length; p += 3) frame[p] = (p / 3 + i * 7) & 255;
    if (audioFrames !== undefined && i < audioFrames) await encoder.writeAudio(new Float32Array(1600 * 2).fill(0.1));
    await encoder.write(frame);
  }
  return { segments, summary: await encoder.close() };
}

describe('the last segment under shortest, with x264 B-frames', () => {
  // Ends that fell inside a B-frame group before the fix (a P-frame past the end was kept, with a gap).
  for (const audioFrames of [41, 42, 45, 49]) {
    test(`audio for ${audioFrames} of 60 frames: every rendition ends on the same frame, exactly, with the audio`, { timeout: 120_000 }, async () => {
      const { segments, summary } = await encode({ audio: { pcm: { sampleRate: 48_000, channels: 2 } } }, audioFrames);
      assert.ok(summary.frames <= audioFrames && summary.frames >= audioFrames - 3,
        `ends at most a B-frame group (3 frames) before the audio: ${summary.frames} frames for ${audioFrames} frames of audio`);
      assert.equal(summary.audio?.samples, summary.frames * (48_000 / FPS), 'the audio ends with the video');
      for (const rung of threeRungs) {
        const own = segments.filter((s) => s.rendition === rung.name).sort((a, b) => a.index - b.index);
        const total = own.reduce((sum, s) => sum + Math.round(s.duration * FPS), 0);
        assert.equal(total, summary.frames, `${rung.name}: the durations add up to summary.frames`);
        const last = own.at(-1)!;
        const packets = await probePackets(last.data);
        const shown = packets.filter((p) => p.codec_type === 'video').map((p) => Math.round((Number(p.pts_time) - last.ptsOffset) * FPS)).sort((a, b) => a - b);
        const first = Math.round(last.startPts * FPS);
        assert.deepEqual(shown, Array.from({ length: Math.round(last.duration * FPS) }, (_, k) => first + k),
          `${rung.name}: the last segment shows frames ${first} to ${summary.frames - 1}, each once`);
        const audioEnd = Math.max(...packets.filter((p) => p.codec_type === 'audio').map((p) => Number(p.pts_time) + Number(p.duration_time ?? 0)));
        assert.ok(audioEnd - last.ptsOffset <= summary.frames / FPS + 1024 / 48_000 + 1e-6, `${rung.name}: no audio past the end (${audioEnd})`);
      }
    });
  }
});

describe('startPts and the PTS in the bytes', () => {
  const cases: Array<[string, Partial<LadderEncoderOptions>, number | undefined]> = [
    ['x264 with B-frames, no audio', {}, undefined],
    ['x264 with B-frames and PCM audio (AAC priming)', { audio: { pcm: { sampleRate: 48_000, channels: 2 } } }, 60],
  ];
  for (const [name, options, audioFrames] of cases) {
    test(`${name}: each segment's first frame is at startPts + ptsOffset`, { timeout: 120_000 }, async () => {
      const { segments } = await encode(options, audioFrames);
      assert.ok(segments.length >= 6);
      for (const segment of segments) {
        assert.equal(typeof segment.ptsOffset, 'number', 'ptsOffset is on every segment');
        const video = (await probePackets(segment.data)).filter((p) => p.codec_type === 'video');
        const firstShown = Math.min(...video.map((p) => Number(p.pts_time)));
        assert.ok(Math.abs(firstShown - (segment.startPts + segment.ptsOffset)) < 1.5 / 90_000,
          `${segment.rendition} #${segment.index}: PTS ${firstShown} in the bytes, startPts ${segment.startPts} + ptsOffset ${segment.ptsOffset}`);
      }
    });
  }
});
