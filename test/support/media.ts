// ffprobe (Debian's ffmpeg package) as an independent judge of what we produce.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedFrame {
  key_frame: number;
  pict_type: string;
  pts?: number;
  media_type?: string;
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
  profile?: string;
  level?: number;
  sample_rate?: string;
  channels?: number;
}

export interface ProbeResult {
  streams: ProbedStream[];
  frames: ProbedFrame[];
  format?: { duration?: string };
}

/** Decodes every frame of a file with ffprobe; throws if ffprobe cannot. */
export async function probeFile(path: string, { frames = true } = {}): Promise<ProbeResult> {
  const args = ['-v', 'error', '-of', 'json', '-show_streams', '-show_format'];
  if (frames) args.push('-show_entries', 'frame=key_frame,pict_type,pts,media_type', '-select_streams', 'v');
  const { stdout, stderr } = await run('ffprobe', [...args, path], { maxBuffer: 64 * 1024 * 1024 });
  if (stderr.trim()) throw new Error(`ffprobe reported errors for ${path}: ${stderr.trim()}`);
  const parsed = JSON.parse(stdout) as Partial<ProbeResult>;
  return { streams: parsed.streams ?? [], frames: parsed.frames ?? [], format: parsed.format };
}

/** Probes bytes in memory, alone: a segment must decode without its neighbours (fMP4: init + segment). */
export async function probeBytes(data: Uint8Array, options?: { frames?: boolean }): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'abrcast-probe-'));
  try {
    const path = join(dir, 'segment');
    await writeFile(path, data);
    return await probeFile(path, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a player reads for one segment or part: fMP4 needs its rendition's init segment in front. */
export function playable(data: Uint8Array, init?: Uint8Array): Buffer {
  return init ? Buffer.concat([init, data]) : Buffer.from(data);
}
