// Audio: encoded once as AAC, muxed into every rendition, in sync with the
// video segment by segment, and cut by the `shortest` rule.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LadderEncoder, type EncodeSummary, type LadderEncoderOptions, type SegmentEvent } from '../../src/index.js';
import {
  TS_HZ, decodeMonoPcm, makeTone, makeVideoOnly, probeSegmentPackets, rms, toneFrequency, type SegmentPackets,
} from '../support/audio-probe.js';
import { FrameGenerator } from '../support/frames.js';

const FPS = 30;
const AAC_FRAME = 1024;
const AAC_RATE = 48_000;
const AAC_FRAME_TICKS = (AAC_FRAME * TS_HZ) / AAC_RATE; // 1920
const WIDTH = 320;
const HEIGHT = 180;
const LADDER = [
  { name: 'high', width: 320, height: 180, bitrate: 400 },
  { name: 'low', width: 160, height: 90, bitrate: 150 },
];

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'abrcast-audio-'));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Run {
  encoder: LadderEncoder;
  segments: SegmentEvent[];
  warnings: string[];
  summary: EncodeSummary;
}

/** Encodes `frames` frames; `pcm(i)` (when given) is written after frame i. */
async function encode(
  audio: LadderEncoderOptions['audio'], frames: number,
  { pcm, preset = 'veryfast' }: { pcm?: (i: number) => Float32Array | undefined; preset?: string } = {},
): Promise<Run> {
  const encoder = new LadderEncoder({
    width: WIDTH, height: HEIGHT, fps: FPS, segmentDuration: 1, renditions: LADDER, encoder: 'x264', x264Preset: preset, audio,
  });
  const segments: SegmentEvent[] = [];
  const warnings: string[] = [];
  encoder.on('segment', (s) => segments.push(s));
  encoder.on('warning', (w) => warnings.push(w));
  const generator = new FrameGenerator(WIDTH, HEIGHT);
  for (let i = 0; i < frames; i++) {
    await encoder.write(generator.frame(i));
    const samples = pcm?.(i);
    if (samples) await encoder.writeAudio(samples);
  }
  const summary = await encoder.close();
  return { encoder, segments, warnings, summary };
}

function sine(frequency: number, sampleRate: number, channels: number, start: number, count: number): Float32Array {
  const out = new Float32Array(count * channels);
  for (let i = 0; i < count; i++) {
    const value = 0.5 * Math.sin((2 * Math.PI * frequency * (start + i)) / sampleRate);
    for (let c = 0; c < channels; c++) out[i * channels + c] = value;
  }
  return out;
}

interface RenditionTimeline {
  probes: SegmentPackets[];
  /** pts (90 kHz) of each segment's first shown frame, then the end of the last frame. */
  boundaries: number[];
  audioPackets: number;
  firstAudio: number;
  lastAudio: number;
}

async function timeline(segments: SegmentEvent[], rendition: string): Promise<RenditionTimeline> {
  const mine = segments.filter((s) => s.rendition === rendition).sort((a, b) => a.index - b.index);
  const probes = await Promise.all(mine.map((s) => probeSegmentPackets(s.data)));
  const boundaries = probes.map((p) => Math.min(...p.video.map((v) => v.pts)));
  const last = mine.at(-1)!;
  boundaries.push(boundaries.at(-1)! + Math.round(last.duration * TS_HZ));
  const audio = probes.flatMap((p) => p.audio.map((a) => a.pts));
  return {
    probes, boundaries, audioPackets: audio.length, firstAudio: Math.min(...audio), lastAudio: Math.max(...audio),
  };
}

/** The sync promises, checked on one rendition's segments. */
function assertInSync(t: RenditionTimeline, label: string): void {
  const videoStart = t.boundaries[0]!;
  const videoEnd = t.boundaries.at(-1)!;
  // Audio sample 0 is shown with video frame 0; the first packet holds the encoder's priming before it.
  assert.ok(Math.abs(t.firstAudio + AAC_FRAME_TICKS - videoStart) <= 1, `${label}: audio starts with the video`);
  // The last audio frame reaches the video's end and does not run a whole frame past it.
  const audioEnd = t.lastAudio + AAC_FRAME_TICKS;
  assert.ok(audioEnd >= videoEnd && audioEnd - videoEnd < AAC_FRAME_TICKS, `${label}: audio ends ${audioEnd - videoEnd} ticks after video`);
  // Summed over the segments, the audio lasts as long as the video, within one AAC frame.
  const audioSeconds = ((t.audioPackets - 1) * AAC_FRAME) / AAC_RATE; // less the priming frame
  const videoSeconds = (videoEnd - videoStart) / TS_HZ;
  assert.ok(Math.abs(audioSeconds - videoSeconds) <= AAC_FRAME / AAC_RATE, `${label}: ${audioSeconds} s of audio for ${videoSeconds} s of video`);
  // Each segment carries exactly the audio of its own span: [its IDR, the next IDR).
  t.probes.forEach((probe, k) => {
    for (const a of probe.audio) {
      if (k > 0) assert.ok(a.pts >= t.boundaries[k]!, `${label}/${k}: audio at ${a.pts} before the segment's start ${t.boundaries[k]}`);
      assert.ok(a.pts < t.boundaries[k + 1]!, `${label}/${k}: audio at ${a.pts} past the segment's end ${t.boundaries[k + 1]}`);
    }
    if (k > 0) {
      const previousLast = Math.max(...t.probes[k - 1]!.audio.map((a) => a.pts));
      assert.equal(Math.min(...probe.audio.map((a) => a.pts)), previousLast + AAC_FRAME_TICKS, `${label}/${k}: no audio lost at the cut`);
    }
  });
}

describe('audio from a file', () => {
  let tone: string;
  let result: Run;
  before(async () => {
    tone = join(dir, 'tone-3s.m4a');
    await makeTone(tone, { seconds: 3, frequency: 440, sampleRate: 44_100 });
    result = await encode({ source: tone }, 3 * FPS);
  });

  test('each segment of each rendition has one AAC-LC and one H.264 stream', async () => {
    assert.equal(result.segments.length, 2 * 3);
    for (const s of result.segments) {
      const { streams } = await probeSegmentPackets(s.data);
      const audio = streams.filter((st) => st.codec_type === 'audio');
      const video = streams.filter((st) => st.codec_type === 'video');
      assert.equal(audio.length, 1, `${s.rendition}/${s.index}`);
      assert.equal(video.length, 1, `${s.rendition}/${s.index}`);
      assert.equal(audio[0]!.codec_name, 'aac');
      assert.equal(audio[0]!.profile, 'LC');
      assert.equal(audio[0]!.sample_rate, '48000');
      assert.equal(audio[0]!.channels, 2);
      assert.equal(video[0]!.codec_name, 'h264');
      assert.match(s.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    }
  });

  test('audio starts with the video, ends with it and is split at the IDRs', async () => {
    for (const r of LADDER) assertInSync(await timeline(result.segments, r.name), r.name);
  });

  test('every rendition carries the same audio packets: encoded once', async () => {
    const [high, low] = await Promise.all(LADDER.map((r) => timeline(result.segments, r.name)));
    assert.deepEqual(low!.probes.map((p) => p.audio), high!.probes.map((p) => p.audio));
  });

  test('the tone survives and the summary counts the audio', async () => {
    const pcm = await decodeMonoPcm(Buffer.concat(result.segments.filter((s) => s.rendition === 'low').map((s) => s.data)));
    const frequency = toneFrequency(pcm, AAC_RATE, AAC_RATE / 10, pcm.length - AAC_RATE / 10);
    assert.ok(Math.abs(frequency - 440) < 2, `decoded ${frequency} Hz`);
    assert.equal(result.summary.frames, 3 * FPS);
    assert.deepEqual(result.summary.audio, { samples: 3 * AAC_RATE, sampleRate: AAC_RATE, durationSeconds: 3 });
  });
});

describe('audio from PCM', () => {
  const RATE = 44_100;
  const FREQUENCY = 1000;
  const perFrame = RATE / FPS; // 1470

  test('a sine written alongside the frames decodes back at its frequency, in sync', async () => {
    const result = await encode(
      { pcm: { sampleRate: RATE, channels: 2 } }, 2 * FPS,
      { pcm: (i) => sine(FREQUENCY, RATE, 2, i * perFrame, perFrame) },
    );
    assert.equal(result.encoder.audioSamplesWritten, 2 * RATE);
    assert.equal(result.summary.frames, 2 * FPS);
    assert.equal(result.summary.audio?.samples, 2 * AAC_RATE);
    for (const r of LADDER) {
      const t = await timeline(result.segments, r.name);
      assertInSync(t, r.name);
      const pcm = await decodeMonoPcm(Buffer.concat(result.segments.filter((s) => s.rendition === r.name).map((s) => s.data)));
      // Every segment's stretch of sound is the tone, not just the whole.
      for (let second = 0; second < 2; second++) {
        const from = second * AAC_RATE + AAC_FRAME * 2;
        const frequency = toneFrequency(pcm, AAC_RATE, from, from + AAC_RATE - AAC_FRAME * 4);
        assert.ok(Math.abs(frequency - FREQUENCY) < 3, `${r.name} second ${second}: ${frequency} Hz`);
      }
    }
  });

  test('one large writeAudio() is held back until encoded, then resolves', async () => {
    const encoder = new LadderEncoder({
      width: WIDTH, height: HEIGHT, fps: FPS, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
      audio: { pcm: { sampleRate: 48_000, channels: 1 } },
    });
    let resolved = false;
    const pending = encoder.writeAudio(sine(FREQUENCY, 48_000, 1, 0, 3 * 48_000)).then(() => { resolved = true; });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false, 'three seconds are more than may wait');
    await pending;
    const generator = new FrameGenerator(WIDTH, HEIGHT);
    for (let i = 0; i < 3 * FPS; i++) await encoder.write(generator.frame(i));
    const summary = await encoder.close();
    assert.equal(summary.frames, 3 * FPS);
    assert.equal(summary.audio?.durationSeconds, 3);
  });
});

describe('shortest', () => {
  test('2 s of audio with 3 s of video: the video stops where the audio does', async () => {
    const tone = join(dir, 'tone-2s.m4a');
    await makeTone(tone, { seconds: 2 });
    const result = await encode({ source: tone }, 3 * FPS, { preset: 'ultrafast' });
    assert.equal(result.summary.frames, 2 * FPS);
    assert.equal(result.summary.audio?.durationSeconds, 2);
    for (const r of LADDER) {
      const mine = result.segments.filter((s) => s.rendition === r.name);
      const seconds = mine.reduce((sum, s) => sum + s.duration, 0);
      assert.ok(Math.abs(seconds - 2) < 1e-9, `${r.name}: ${seconds} s of video`);
      assertInSync(await timeline(result.segments, r.name), r.name);
    }
  });

  test('PCM that ends early cuts the video at close()', async () => {
    const result = await encode(
      { pcm: { sampleRate: 48_000, channels: 1 } }, 2 * FPS,
      { pcm: (i) => (i < FPS ? sine(440, 48_000, 1, i * 1600, 1600) : undefined), preset: 'ultrafast' },
    );
    assert.equal(result.summary.frames, FPS);
    for (const r of LADDER) assertInSync(await timeline(result.segments, r.name), r.name);
  });

  test('3 s of audio with 2 s of video: the audio stops at the last frame', async () => {
    const tone = join(dir, 'tone-3s-b.m4a');
    await makeTone(tone, { seconds: 3 });
    const result = await encode({ source: tone }, 2 * FPS, { preset: 'ultrafast' });
    assert.equal(result.summary.frames, 2 * FPS);
    assert.equal(result.summary.audio?.durationSeconds, 2);
    for (const r of LADDER) assertInSync(await timeline(result.segments, r.name), r.name);
  });

  test('shortest: false pads the audio with silence up to the video end', async () => {
    const tone = join(dir, 'tone-1s.m4a');
    await makeTone(tone, { seconds: 1 });
    const result = await encode({ source: tone, shortest: false }, 2 * FPS, { preset: 'ultrafast' });
    assert.equal(result.summary.frames, 2 * FPS);
    assert.equal(result.summary.audio?.durationSeconds, 2);
    const t = await timeline(result.segments, 'high');
    assertInSync(t, 'high');
    const pcm = await decodeMonoPcm(Buffer.concat(result.segments.filter((s) => s.rendition === 'high').map((s) => s.data)));
    // lavfi's sine has amplitude 1/8: RMS 0.088.
    assert.ok(rms(pcm, AAC_RATE / 4, AAC_RATE * 3 / 4) > 0.05, 'the tone plays in the first second');
    assert.ok(rms(pcm, AAC_RATE * 5 / 4, AAC_RATE * 7 / 4) < 1e-3, 'silence in the second');
  });
});

describe('bad audio sources fail to open with the path and the reason', () => {
  const options = (source: string): LadderEncoderOptions => ({ width: WIDTH, height: HEIGHT, fps: FPS, encoder: 'x264', audio: { source } });

  test('a missing file', async () => {
    const path = join(dir, 'missing.mp3');
    await assert.rejects(LadderEncoder.open(options(path)), { message: `Cannot open audio source ${path}: No such file or directory` });
  });

  test('a text file', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'not audio at all\n');
    await assert.rejects(LadderEncoder.open(options(path)), (error: Error) => {
      assert.match(error.message, new RegExp(`^(Cannot open audio source|No audio stream in) ${path.replace(/[.]/g, '\\.')}`));
      return true;
    });
  });

  test('a video-only file', async () => {
    const path = join(dir, 'video-only.mp4');
    await makeVideoOnly(path);
    await assert.rejects(LadderEncoder.open(options(path)), { message: `No audio stream in ${path}` });
  });
});
