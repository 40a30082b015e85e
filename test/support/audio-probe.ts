// Audio-side judges built on the ffmpeg CLI: packet timestamps of a segment,
// decoded PCM, and test tones. (media.ts is shared; audio helpers live here.)
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** MPEG-TS timestamps are in 1/90000 s. */
export const TS_HZ = 90_000;

export interface ProbedPacket {
  pts: number;
  dts: number;
}

export interface SegmentPackets {
  streams: Array<{ codec_type: string; codec_name: string; sample_rate?: string; channels?: number; profile?: string }>;
  video: ProbedPacket[];
  audio: ProbedPacket[];
}

async function withTempFile<T>(data: Uint8Array, name: string, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-audio-probe-'));
  try {
    const path = join(dir, name);
    await writeFile(path, data);
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Streams and packet timestamps of one segment, read on its own (fMP4: with its init segment in
 * front), in 1/90000 s whatever the container's time base.
 */
export async function probeSegmentPackets(data: Uint8Array): Promise<SegmentPackets> {
  return withTempFile(data, 'segment', async (path) => {
    const { stdout, stderr } = await run(
      'ffprobe',
      ['-v', 'error', '-of', 'json', '-show_streams', '-show_entries', 'packet=stream_index,pts_time,dts_time', path],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    if (stderr.trim()) throw new Error(`ffprobe reported errors: ${stderr.trim()}`);
    const parsed = JSON.parse(stdout) as {
      streams: Array<SegmentPackets['streams'][number] & { index: number }>;
      packets?: Array<{ stream_index: number; pts_time: string; dts_time: string }>;
    };
    const ticks = (time: string) => Math.round(Number(time) * TS_HZ);
    const typeOf = new Map(parsed.streams.map((s) => [s.index, s.codec_type]));
    const packets = parsed.packets ?? [];
    const pick = (type: string) =>
      packets.filter((p) => typeOf.get(p.stream_index) === type).map((p) => ({ pts: ticks(p.pts_time), dts: ticks(p.dts_time) }));
    return { streams: parsed.streams, video: pick('video'), audio: pick('audio') };
  });
}

/** Decodes the audio of MPEG-TS (or init + fMP4) bytes to mono float32 at `sampleRate`. */
export async function decodeMonoPcm(data: Uint8Array, sampleRate = 48_000): Promise<Float32Array> {
  return withTempFile(data, 'audio', async (path) => {
    const { stdout } = await run(
      'ffmpeg',
      ['-v', 'error', '-i', path, '-vn', '-f', 'f32le', '-ac', '1', '-ar', String(sampleRate), '-'],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
    );
    const bytes = Buffer.from(stdout);
    return new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
  });
}

/** Writes a sine tone with the ffmpeg CLI (container from the file extension). */
export async function makeTone(path: string, { seconds, frequency = 440, sampleRate = 44_100 }: { seconds: number; frequency?: number; sampleRate?: number }): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=${sampleRate}`, '-t', String(seconds), path]);
}

/** Writes a video-only file (no audio stream). */
export async function makeVideoOnly(path: string, seconds = 1): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', String(seconds), path]);
}

/** Frequency of a tone from its rising zero crossings, over samples[from, to). */
export function toneFrequency(samples: Float32Array, sampleRate: number, from = 0, to = samples.length): number {
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = from + 1; i < to; i++) {
    if (samples[i - 1]! < 0 && samples[i]! >= 0) {
      if (first < 0) first = i;
      else crossings++;
      last = i;
    }
  }
  if (crossings === 0) return 0;
  return (crossings * sampleRate) / (last - first);
}

/** Root mean square of samples[from, to). */
export function rms(samples: Float32Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}
