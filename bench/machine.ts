// The machine a result was measured on, for the JSON and the chart's caption.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

export interface MachineInfo {
  host: string;
  nproc: number;
  cpuModel: string;
  memTotalMiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
  /** 1, 5 and 15 minute load when the bench started: other work on a shared machine shows here. */
  loadAverage: number[];
}

async function cpuModel(): Promise<string> {
  try {
    const text = await readFile('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim();
    if (model) return model;
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown';
}

async function ffmpegVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('ffmpeg', ['-hide_banner', '-version']);
    return /^ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'not found';
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  return {
    host: hostname(),
    nproc: availableParallelism(),
    cpuModel: await cpuModel(),
    memTotalMiB: Math.round(totalmem() / (1024 * 1024)),
    kernel: release(),
    node: process.version,
    ffmpeg: await ffmpegVersion(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
