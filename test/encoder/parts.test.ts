// LL-HLS partial segments (issue 16): each segment is also cut into parts, sent as they are
// muxed. ffprobe judges what each part holds: its bytes are located in the segment and the
// frames found there must be exactly the frames its event announces, in both containers.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { LadderEncoder, type Container, type LadderEncoderOptions, type PartEvent, type SegmentEvent } from '../../src/index.js';
import { loadNativeAddon, type NativeEncoderConfig, type NativeEvent } from '../../src/native/binding.js';
import { FrameGenerator } from '../support/frames.js';
import { playable, probeBytes } from '../support/media.js';

const run = promisify(execFile);
const FPS = 30;
const PART_FRAMES = 6;
const LADDER = [
  { name: 'high', width: 320, height: 180, bitrate: 400 },
  { name: 'low', width: 160, height: 90, bitrate: 150 },
];

interface Encoded {
  order: string[];
  warnings: string[];
  inits: Map<string, Buffer>;
  parts: PartEvent[];
  segments: SegmentEvent[];
}

async function encode(container: Container, options: Partial<LadderEncoderOptions>, frames: number): Promise<Encoded> {
  const encoder = new LadderEncoder({
    width: 320, height: 180, fps: FPS, segmentDuration: 1, partDuration: PART_FRAMES / FPS, renditions: LADDER, encoder: 'x264',
    container, audio: { pcm: { sampleRate: 48_000, channels: 2 } }, ...options,
  });
  const out: Encoded = { order: [], warnings: [], inits: new Map(), parts: [], segments: [] };
  encoder.on('warning', (w) => out.warnings.push(w));
  encoder.on('init', (i) => {
    out.inits.set(i.rendition, i.data);
    out.order.push(`init ${i.rendition}`);
  });
  encoder.on('part', (p) => {
    out.parts.push(p);
    out.order.push(`part ${p.rendition} ${p.segmentIndex}.${p.partIndex}`);
  });
  encoder.on('segment', (s) => {
    out.segments.push(s);
    out.order.push(`segment ${s.rendition} ${s.index}`);
  });
  const generator = new FrameGenerator(320, 180);
  const tone = new Float32Array((48_000 / FPS) * 2).fill(0.1);
  for (let i = 0; i < frames; i++) {
    await encoder.write(generator.frame(i));
    await encoder.writeAudio(tone);
  }
  await encoder.close();
  return out;
}

interface Packet { codec_type: string; pts_time: string; pos?: string; flags: string }

/** Packets of a file with their byte positions. */
async function probePositions(data: Uint8Array): Promise<Packet[]> {
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-parts-'));
  try {
    const path = join(dir, 'segment');
    await writeFile(path, data);
    const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', 'packet=codec_type,pts_time,pos,flags', path],
      { maxBuffer: 64 * 1024 * 1024 });
    if (stderr.trim()) throw new Error(`ffprobe reported errors: ${stderr.trim()}`);
    return (JSON.parse(stdout) as { packets: Packet[] }).packets;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function partsOf(encoded: Encoded, segment: SegmentEvent): PartEvent[] {
  return encoded.parts.filter((p) => p.rendition === segment.rendition && p.segmentIndex === segment.index);
}

/** The promises every run keeps, whatever the container and encoder settings. */
async function assertParts(encoded: Encoded, container: Container, frames: number): Promise<void> {
  // e.g. the mp4 muxer guessing a fragment's last sample duration: the packets must say it.
  assert.deepEqual(encoded.warnings, [], 'no warning from the muxers');
  assert.equal(encoded.segments.length, LADDER.length * Math.ceil(frames / FPS));
  for (const segment of encoded.segments) {
    const label = `${segment.rendition}/${segment.index}`;
    const parts = partsOf(encoded, segment);
    assert.deepEqual(parts.map((p) => p.partIndex), parts.map((_, k) => k), `${label}: parts numbered from 0 without gaps`);
    assert.ok(Buffer.concat(parts.map((p) => p.data)).equals(segment.data), `${label}: the parts concatenate to the segment, byte for byte`);
    // An LL master can be made from the first part: each part carries its segment's CODECS.
    assert.deepEqual(parts.map((p) => p.codecs), parts.map(() => segment.codecs), `${label}: parts carry the segment's codecs`);
    const frameCount = (seconds: number) => Math.round(seconds * FPS);
    assert.equal(parts.reduce((sum, p) => sum + frameCount(p.duration), 0), frameCount(segment.duration), `${label}: part durations add up`);
    let start = frameCount(segment.startPts);
    for (const part of parts) {
      assert.equal(frameCount(part.startPts), start, `${label}.${part.partIndex}: starts where the previous part ended`);
      assert.ok(part.duration > 0 && frameCount(part.duration) <= PART_FRAMES, `${label}.${part.partIndex}: ${part.duration} s, at most partDuration`);
      assert.equal(part.independent, part.partIndex === 0, `${label}.${part.partIndex}: independent only where the IDR is`);
      assert.equal(part.bytes, part.data.length);
      start += frameCount(part.duration);
    }

    // Where each frame's bytes are in the segment says which part holds it.
    const init = encoded.inits.get(segment.rendition);
    const skip = init?.length ?? 0;
    const packets = await probePositions(playable(segment.data, init));
    const ends: number[] = [];
    for (const part of parts) ends.push((ends.at(-1) ?? 0) + part.bytes);
    // MPEG-TS gives a position only to the first AAC frame of each PES packet (frames are grouped).
    const located = (packet: Packet) => packet.pos !== undefined && Number(packet.pos) >= skip;
    const partAt = (packet: Packet) => (located(packet) ? ends.findIndex((end) => Number(packet.pos) - skip < end) : -1);
    const video = packets.filter((p) => p.codec_type === 'video');
    assert.equal(video.length, frameCount(segment.duration), `${label}: every frame is in the segment`);
    parts.forEach((part, k) => {
      const shown = video.filter((p) => partAt(p) === k).map((p) => frameCount(Number(p.pts_time) - segment.ptsOffset)).sort((a, b) => a - b);
      const first = frameCount(part.startPts);
      assert.deepEqual(shown, Array.from({ length: frameCount(part.duration) }, (_, j) => first + j),
        `${label}.${part.partIndex}: holds exactly the frames it announces`);
      // Audio goes with the part whose span holds its pts (the AAC priming frame, before 0, with the first).
      const audio = packets.filter((p) => p.codec_type === 'audio' && partAt(p) === k);
      assert.ok(audio.length > 0, `${label}.${part.partIndex}: has audio`);
      for (const a of audio) {
        const at = Number(a.pts_time) - segment.ptsOffset;
        assert.ok(at < part.startPts + part.duration - 1e-6, `${label}.${part.partIndex}: audio at ${at} s belongs to a later part`);
        assert.ok(at >= part.startPts - 1e-6 || part.startPts === 0, `${label}.${part.partIndex}: audio at ${at} s belongs to an earlier part`);
      }
    });
    const audio = packets.filter((p) => p.codec_type === 'audio');
    assert.ok(audio.length >= Math.floor((segment.duration * 48_000) / 1024), `${label}: the segment's audio is there`);

    // The independent part plays on its own (fMP4: with the init segment).
    const probe = await probeBytes(playable(parts[0]!.data, init));
    assert.equal(probe.frames[0]?.key_frame, 1, `${label}.0 starts with a keyframe`);
    assert.equal(probe.frames.length, frameCount(parts[0]!.duration), `${label}.0 decodes on its own`);
  }

  // Order: init first (fMP4), each part before its segment, parts of a segment in order.
  for (const r of LADDER) {
    const own = encoded.order.filter((e) => e.split(' ')[1] === r.name);
    if (container === 'fmp4') assert.equal(own[0], `init ${r.name}`);
    else assert.ok(!own.some((e) => e.startsWith('init')));
    for (const segment of encoded.segments.filter((s) => s.rendition === r.name)) {
      const at = own.indexOf(`segment ${r.name} ${segment.index}`);
      for (const part of partsOf(encoded, segment)) {
        assert.ok(own.indexOf(`part ${r.name} ${segment.index}.${part.partIndex}`) < at, `part ${segment.index}.${part.partIndex} comes before its segment`);
      }
      const previous = own.findLastIndex((e, i) => i < at && e.startsWith('segment'));
      assert.ok(partsOf(encoded, segment).every((p) => own.indexOf(`part ${r.name} ${segment.index}.${p.partIndex}`) > previous),
        `parts of ${segment.index} come after segment ${segment.index - 1}`);
    }
  }
}

const TS_PACKET = 188;

/** PIDs of a part's TS packets up to the first PES start on an elementary stream, and the PMT PID the first PAT names. */
function tablesBeforeFirstPes(data: Uint8Array): { pids: number[]; pmtPid: number | undefined } {
  const pids: number[] = [];
  let pmtPid: number | undefined;
  for (let at = 0; at + TS_PACKET <= data.length; at += TS_PACKET) {
    assert.equal(data[at], 0x47, `sync byte at ${at}`);
    const pid = ((data[at + 1]! & 0x1f) << 8) | data[at + 2]!;
    const payloadStart = (data[at + 1]! & 0x40) !== 0;
    if (pid === 0 && pmtPid === undefined) {
      // PAT (ISO/IEC 13818-1 2.4.4.3), no adaptation field: pointer_field, then 8 header bytes and the first program.
      const table = at + 5 + data[at + 4]!;
      pmtPid = ((data[table + 10]! & 0x1f) << 8) | data[table + 11]!;
    }
    if (payloadStart && pid !== 0 && pid !== 0x11 && pid !== pmtPid) break;
    pids.push(pid);
  }
  return { pids, pmtPid };
}

describe('parts, ts: each part stands alone for a transmuxer that appends chunk by chunk', () => {
  test('PAT and PMT before its first PES, the SPS/PPS in its first video access unit: ffprobe reads every part alone', { timeout: 120_000 }, async () => {
    const encoded = await encode('ts', { x264Preset: 'veryfast' }, 75);
    assert.ok(encoded.parts.length > 2 * LADDER.length * 3, `${encoded.parts.length} parts`);
    for (const part of encoded.parts) {
      const label = `${part.rendition}/${part.segmentIndex}.${part.partIndex}`;
      const { pids, pmtPid } = tablesBeforeFirstPes(part.data);
      assert.ok(pmtPid !== undefined && pids.includes(0) && pids.indexOf(pmtPid) > pids.indexOf(0), `${label}: PAT then PMT before any PES (PIDs ${pids.join(', ')})`);
      // Without the parameter sets ffprobe says "non-existing PPS 0 referenced" and finds no frame size.
      const { stdout, stderr } = await probeStreams(part.data);
      assert.equal(stderr.trim(), '', `${label}: ffprobe reads the part alone without a complaint`);
      const rung = LADDER.find((r) => r.name === part.rendition)!;
      assert.deepEqual(stdout.streams.map((s) => [s.codec_type, s.width ?? null, s.height ?? null]),
        [['video', rung.width, rung.height], ['audio', null, null]], `${label}: both streams, the video's size from its own SPS`);
    }
  });
});

/** ffprobe's streams of a file holding `data`, and what it complained about. */
async function probeStreams(data: Uint8Array): Promise<{ stdout: { streams: { codec_type: string; width?: number; height?: number }[] }; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-part-'));
  try {
    const path = join(dir, 'part.ts');
    await writeFile(path, data);
    const { stdout, stderr } = await run('ffprobe', ['-v', 'error', '-of', 'json', '-show_entries', 'stream=codec_type,width,height', path]);
    return { stdout: JSON.parse(stdout) as { streams: { codec_type: string; width?: number; height?: number }[] }, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const container of ['ts', 'fmp4'] as Container[]) {
  describe(`parts, ${container}`, () => {
    test('with B-frames (x264 veryfast): parts end on frame boundaries, at most partDuration long', { timeout: 120_000 }, async () => {
      const frames = 75;
      const encoded = await encode(container, { x264Preset: 'veryfast' }, frames);
      await assertParts(encoded, container, frames);
    });

    const withoutBFrames = [['x264 ultrafast', { x264Preset: 'ultrafast' }], ["latency: 'low'", { x264Preset: 'veryfast', latency: 'low' }]] as const;
    for (const [name, options] of withoutBFrames) test(`without B-frames (${name}): every part is exactly partDuration but the segment's last`, { timeout: 120_000 }, async () => {
      const frames = 75;
      const encoded = await encode(container, options, frames);
      await assertParts(encoded, container, frames);
      for (const segment of encoded.segments) {
        const durations = partsOf(encoded, segment).map((p) => Math.round(p.duration * FPS));
        const whole = Math.round(segment.duration * FPS);
        const expected = Array.from({ length: Math.ceil(whole / PART_FRAMES) }, (_, k) => Math.min(PART_FRAMES, whole - k * PART_FRAMES));
        assert.deepEqual(durations, expected, `${segment.rendition}/${segment.index}`);
      }
    });

    test('a part is sent as soon as it is muxed, while its segment is still being written', { timeout: 120_000 }, async () => {
      // 2 s segments of 60 frames; the caller stops after frame 47, before the segment's last
      // part (frames 54 to 59) exists, and waits: part 0 must arrive with the segment unfinished.
      const encoder = new LadderEncoder({
        width: 320, height: 180, fps: FPS, segmentDuration: 2, partDuration: PART_FRAMES / FPS, renditions: [LADDER[0]!],
        encoder: 'x264', x264Preset: 'ultrafast', container,
      });
      const parts: PartEvent[] = [];
      let segments = 0;
      let firstPart!: () => void;
      const arrived = new Promise<void>((resolve) => (firstPart = resolve));
      encoder.on('part', (p) => {
        parts.push(p);
        firstPart();
      });
      encoder.on('segment', () => segments++);
      const generator = new FrameGenerator(320, 180);
      for (let i = 0; i < 48; i++) await encoder.write(generator.frame(i));
      await arrived;
      assert.equal(segments, 0, 'no segment yet');
      assert.deepEqual([parts[0]!.segmentIndex, parts[0]!.partIndex, parts[0]!.independent], [0, 0, true]);
      for (let i = 48; i < 60; i++) await encoder.write(generator.frame(i));
      await encoder.close();
      assert.equal(segments, 1);
      assert.equal(parts.length, 60 / PART_FRAMES);
    });
  });
}

describe('a full part is sent without waiting for the next frame', () => {
  for (const container of ['ts', 'fmp4'] as const) {
    test(`${container}: with an encoder that holds no frame back, part 0 arrives after its last frame, with nothing written after it`, { timeout: 60_000 }, async () => {
      // x264 tune=zerolatency outputs each frame's packet as it is encoded; the part (frames 0 to 4)
      // is full once frame 4 is muxed, so it must come out before frame 5 exists.
      const config: NativeEncoderConfig = {
        width: 160, height: 90, fpsNum: 30, fpsDen: 1, pixelFormat: 'rgb24', framesPerSegment: 10, framesPerPart: 5, container,
        encoder: 'x264', x264Preset: 'ultrafast', nvencPreset: 'p4', nvencTune: 'hq', scaleFlags: 'bicubic', maxFramesInFlight: 4,
        outputDir: '', renditions: [{ name: '90p', width: 160, height: 90, bitrate: 100 }], cudaFrames: false, lowLatency: false,
        encoderOptions: { tune: 'zerolatency' },
      };
      const events: NativeEvent[] = [];
      let partArrived!: () => void;
      const part = new Promise<void>((resolve) => (partArrived = resolve));
      let finished!: () => void;
      const done = new Promise<void>((resolve) => (finished = resolve));
      const native = new (loadNativeAddon().NativeLadderEncoder)(config, (event) => {
        events.push(event);
        if (event.type === 'part') partArrived();
        if (event.type === 'finished') finished();
      });
      native.ref();
      // A buffer each: write() keeps it until the frame is converted.
      for (let i = 0; i < 5; i++) native.write(Buffer.alloc(160 * 90 * 3, i * 40), i);
      await part;
      const first = events.find((e): e is Extract<NativeEvent, { type: 'part' }> => e.type === 'part')!;
      assert.deepEqual([first.segmentIndex, first.partIndex, first.startFrame, first.durationFrames, first.independent], [0, 0, 0, 5, true]);
      native.end();
      await done;
      native.dispose();
      assert.equal(events.filter((e) => e.type === 'part').length, 1, 'the run of 5 frames is that one part');
      assert.deepEqual(events.filter((e) => e.type === 'error'), []);
    });
  }
});

describe('partDuration validation', () => {
  const base = { width: 320, height: 180, fps: 30, segmentDuration: 1, x264Preset: 'ultrafast' } as const;
  const cases: Array<[string, Record<string, unknown>, RegExp, string]> = [
    ['a part that is not a whole number of frames', { partDuration: 0.25 }, /^Expected a whole number of frames at 30 fps \(e\.g\. 0\.2666\d*\) for partDuration but received 0\.25$/, 'RangeError'],
    ['a part longer than the segment', { partDuration: 2 }, /^Expected number of seconds greater than 0 and at most segmentDuration \(1\) for partDuration but received 2$/, 'RangeError'],
    ['a zero part', { partDuration: 0 }, /for partDuration but received 0$/, 'RangeError'],
    ['a string part', { partDuration: '0.2' }, /for partDuration but received "0\.2"$/, 'TypeError'],
    ['an unknown container', { container: 'mkv' }, /^Expected one of ts, fmp4 for container but received "mkv"$/, 'RangeError'],
  ];
  for (const [label, patch, message, name] of cases) {
    test(`rejects ${label}`, () => {
      assert.throws(() => new LadderEncoder({ ...base, ...patch } as never), (error: Error) => {
        assert.equal(error.name, name, error.message);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
