// Which encoder runs: the GPU path when CUDA and NVENC are both present, x264
// otherwise, and always with the reason when NVENC was not picked.
import { AbrcastError } from '../errors.js';
import { loadNativeAddon } from '../native/binding.js';
import type { ActiveEncoder, EncoderChoice } from './types.js';

export interface HardwareReport {
  cuda: boolean;
  nvenc: boolean;
  device?: string;
  reason?: string;
}

const probes = new Map<string, HardwareReport>();

/** Probes synchronously, once per size per process (opening an NVENC session costs ~100 ms on a GPU). */
export function probeHardwareSync(width = 640, height = 360): HardwareReport {
  const key = `${width}x${height}`;
  let report = probes.get(key);
  if (!report) {
    report = { ...loadNativeAddon().probeHardware(width, height) };
    probes.set(key, report);
  }
  return report;
}

/** Can a CUDA device be created, and can an h264_nvenc session be opened (at width x height)? Off the JS thread. */
export async function probeHardware(options: { width?: number; height?: number } = {}): Promise<HardwareReport> {
  const { width = 640, height = 360 } = options;
  const key = `${width}x${height}`;
  let report = probes.get(key);
  if (!report) {
    report = { ...(await loadNativeAddon().probeHardwareAsync(width, height)) };
    probes.set(key, report);
  }
  return report;
}

export interface EncoderSelection {
  encoder: ActiveEncoder;
  fallbackReason?: string;
}

export function selectEncoder(choice: EncoderChoice, smallest: { width: number; height: number }): EncoderSelection {
  if (choice === 'x264') return { encoder: 'x264' };
  const report = probeHardwareSync(smallest.width, smallest.height);
  if (report.cuda && report.nvenc) return { encoder: 'nvenc' };
  const reason = report.reason ?? 'NVENC not available';
  if (choice === 'nvenc') throw new AbrcastError(`Cannot use encoder nvenc: ${reason}`);
  return { encoder: 'x264', fallbackReason: reason };
}
