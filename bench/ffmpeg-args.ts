// ffmpeg arguments shared by the ffmpeg pipelines, so every pipeline encodes
// with the settings LadderEncoder uses (native/src/rendition-encoder.cc):
// bitrate, maxrate 1.5x, bufsize 2x, GOP = keyint_min = fps x segment, no
// scene-cut, a forced IDR on every segment boundary, profile high.
import { join } from 'node:path';

import type { Rendition } from '../src/index.js';
import type { BenchConfig } from './config.js';

export const QUIET = ['-hide_banner', '-nostats', '-loglevel', 'error', '-nostdin'];

/** What the argument builders read of a bench's settings (--case pipelines, --case streams). */
export type FfmpegSettings = Pick<BenchConfig, 'frameRate' | 'scaleAlgorithm' | 'framesPerSegment' | 'encoder' | 'preset' | 'segmentSeconds'>;

/** Raw frames from a pipe or a file. */
export function rawInput(pixelFormat: 'rgb24' | 'yuv420p', width: number, height: number, config: FfmpegSettings, source = 'pipe:0'): string[] {
  return ['-f', 'rawvideo', '-pixel_format', pixelFormat, '-video_size', `${width}x${height}`, '-framerate', config.frameRate, '-i', source];
}

/** RGB to BT.709 limited-range yuv420p at the rendition's size, with the configured scaler (as LadderEncoder converts). */
export function scaleFilter(rendition: Rendition, config: FfmpegSettings): string {
  return `scale=w=${rendition.width}:h=${rendition.height}:flags=${config.scaleAlgorithm}:out_color_matrix=bt709:out_range=tv,format=yuv420p`;
}

export function videoEncoder(rendition: Rendition, config: FfmpegSettings): string[] {
  const kbps = rendition.bitrate;
  const gop = String(config.framesPerSegment);
  const common = [
    '-b:v', `${kbps}k`, '-maxrate', `${Math.floor((kbps * 3) / 2)}k`, '-bufsize', `${kbps * 2}k`,
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-force_key_frames', `expr:eq(mod(n,${gop}),0)`, '-forced-idr', '1',
    '-profile:v', 'high',
    '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709',
  ];
  if (config.encoder === 'nvenc') {
    return ['-c:v', 'h264_nvenc', '-preset', 'p4', '-tune', 'hq', '-rc', 'vbr', '-no-scenecut', '1', '-strict_gop', '1', '-bf', '0', ...common];
  }
  return ['-c:v', 'libx264', '-preset', config.preset, '-x264-params', 'scenecut=0:open-gop=0', ...common];
}

/** HLS with MPEG-TS segments into `dir`, as the Python original wrote them. */
export function hlsOutput(dir: string, config: FfmpegSettings): string[] {
  return [
    '-f', 'hls', '-hls_time', String(config.segmentSeconds), '-hls_list_size', '0',
    '-hls_flags', 'independent_segments', '-hls_segment_type', 'mpegts',
    '-hls_segment_filename', join(dir, 'segment_%05d.ts'), join(dir, 'playlist.m3u8'),
  ];
}
