// Picture quality of what a run wrote: PSNR-Y and SSIM of every rendition's decoded segments
// against one reference for all pipelines, the source frames scaled by ffmpeg with lanczos in one
// step (accurate rounding, full chroma interpolation). Measured once per pipeline, untimed, so a
// faster but blurrier scaler shows up as what it is.
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { BenchConfig } from './config.js';
import { QUIET, rawInput } from './ffmpeg-args.js';
import { feedPipes, spawnFfmpeg } from './ffmpeg-process.js';
import type { FrameRing } from './frames.js';

export const REFERENCE_SCALER = 'lanczos+accurate_rnd+full_chroma_int';

export interface RenditionQuality {
  rendition: string;
  /** Luma PSNR of the mean squared error over all frames, dB (ffmpeg psnr's y:). */
  psnrY: number;
  /** Chroma PSNRs, dB, so a blurrier chroma filter shows too. */
  psnrU: number;
  psnrV: number;
  /** Luma SSIM, mean over frames (ffmpeg ssim's Y:). */
  ssim: number;
  /** Bytes of MPEG-TS per second of stream, as kbit/s: the same bitrate is what makes PSNRs comparable. */
  kbps: number;
}

function referencePath(workDir: string, rendition: string): string {
  return join(workDir, `reference-${rendition}.yuv`);
}

/** Untimed: the ring's frames once, scaled by the reference scaler, one yuv420p file per rendition. */
export async function prepareReferences(config: BenchConfig, ring: FrameRing, workDir: string): Promise<void> {
  const { renditions } = config;
  const labels = renditions.map((_, i) => `[s${i}]`).join('');
  const branches = renditions.map((r, i) =>
    `[s${i}]scale=w=${r.width}:h=${r.height}:flags=${REFERENCE_SCALER}:out_color_matrix=bt709:out_range=tv,format=yuv420p[v${i}]`);
  const graph = [`[0:v]split=${renditions.length}${labels}`, ...branches].join(';');
  const outputs = renditions.flatMap((r, i) => ['-map', `[v${i}]`, '-f', 'rawvideo', referencePath(workDir, r.name)]);
  const child = spawnFfmpeg('quality reference', [...QUIET, ...rawInput('rgb24', config.width, config.height, config),
    '-filter_complex', graph, ...outputs], { pipeStdin: true });
  await feedPipes([child.stdin!], ring, ring.frames.length);
  await child.exited;
}

/** Reads ffmpeg's psnr/ssim summary lines; throws when one is missing. */
export function parseQualityLog(log: string): { psnrY: number; psnrU: number; psnrV: number; ssim: number } {
  const psnr = /PSNR y:([\d.]+|inf) u:([\d.]+|inf) v:([\d.]+|inf)/.exec(log);
  const ssim = /SSIM Y:([\d.]+)/.exec(log);
  if (!psnr || !ssim) throw new Error(`no PSNR/SSIM summary in ffmpeg's output: ${log.trim().split('\n').slice(-3).join(' | ')}`);
  const db = (text: string) => (text === 'inf' ? Infinity : Number(text));
  return { psnrY: db(psnr[1]!), psnrU: db(psnr[2]!), psnrV: db(psnr[3]!), ssim: Number(ssim[1]) };
}

/** Decodes each rendition's segments of a run (in `outputDir/<rendition>/`) and compares them with the reference. */
export async function measureQuality(config: BenchConfig, outputDir: string, workDir: string): Promise<RenditionQuality[]> {
  const results: RenditionQuality[] = [];
  for (const r of config.renditions) {
    const dir = join(outputDir, r.name);
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort().map((name) => join(dir, name));
    // Both sides start at 0 (ffmpeg's HLS output starts at 1.4 s); the reference loops as the ring does.
    const graph = '[0:v]setpts=PTS-STARTPTS,split[d1][d2];[1:v]setpts=PTS-STARTPTS,split[r1][r2];' +
      '[d1][r1]psnr=shortest=1[p];[d2][r2]ssim=shortest=1[s]';
    const args = [
      '-hide_banner', '-nostats', '-nostdin', '-loglevel', 'info',
      '-i', `concat:${segments.join('|')}`,
      '-stream_loop', '-1', ...rawInput('yuv420p', r.width, r.height, config, referencePath(workDir, r.name)),
      '-filter_complex', graph, '-map', '[p]', '-f', 'null', '-', '-map', '[s]', '-f', 'null', '-',
    ];
    let bytes = 0;
    for (const segment of segments) bytes += (await stat(segment)).size;
    const kbps = (bytes * 8) / (config.frames / config.fps) / 1000;
    results.push({ rendition: r.name, ...parseQualityLog(await runForLog(args)), kbps });
  }
  return results;
}

function runForLog(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      log += text;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(log) : reject(new Error(`ffmpeg (quality) exited with ${code}: ${log.slice(-500)}`))));
  });
}
