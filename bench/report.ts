// Turns the runs into the JSON report (medians, ranges, ratios) and the
// markdown tables printed at the end.
import type { BenchConfig, PipelineId } from './config.js';
import type { MachineInfo } from './machine.js';
import type { Pipeline } from './pipelines/index.js';
import { REFERENCE_SCALER, type RenditionQuality } from './quality.js';
import type { RunRecord } from './run-pipeline.js';
import { percentile, spread, type Spread } from './stats.js';

export interface LatencySummary {
  median: number;
  p99: number;
  /** Events pooled over every round and rendition. */
  count: number;
}

export interface PipelineSummary {
  id: PipelineId;
  label: string;
  description: string;
  rounds: number;
  fps: Spread;
  wallSeconds: Spread;
  cpuSeconds: Spread;
  cpuMsPerFrame: Spread;
  peakRssMiB: Spread;
  /** Peak RSS of the tree minus this process's RSS at the run's start: what the pipeline itself added. */
  addedRssMiB: Spread;
  segments: Spread;
  segmentLatencyMs?: LatencySummary;
  /** PSNR-Y/SSIM per rendition against the lanczos reference, from round 1. */
  quality?: RenditionQuality[];
}

/** A pipeline's figure divided by the baseline's figure of the same round: below 1 is less CPU / less time. */
export interface Ratio {
  cpu: Spread;
  wall: Spread;
}

export type Baseline = 'original' | 'one-ffmpeg';

export interface BenchReport {
  schema: 1;
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  config: Omit<BenchConfig, 'json' | 'outDir'>;
  pipelines: PipelineSummary[];
  ratios: Partial<Record<Baseline, Partial<Record<PipelineId, Ratio>>>>;
  runs: RunRecord[];
}

function summarize(pipeline: Pipeline, runs: RunRecord[]): PipelineSummary {
  const latencies = runs.flatMap((r) => r.segmentLatenciesMs ?? []);
  const quality = runs.find((r) => r.quality)?.quality;
  return {
    id: pipeline.id,
    label: pipeline.label,
    description: pipeline.description,
    rounds: runs.length,
    fps: spread(runs.map((r) => r.fps)),
    wallSeconds: spread(runs.map((r) => r.wallSeconds)),
    cpuSeconds: spread(runs.map((r) => r.cpuSeconds)),
    cpuMsPerFrame: spread(runs.map((r) => r.cpuMsPerFrame)),
    peakRssMiB: spread(runs.map((r) => r.peakRssMiB)),
    addedRssMiB: spread(runs.map((r) => r.peakRssMiB - r.baselineRssMiB)),
    segments: spread(runs.map((r) => r.segments)),
    ...(latencies.length > 0
      ? { segmentLatencyMs: { median: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length } }
      : {}),
    ...(quality ? { quality } : {}),
  };
}

function ratiosAgainst(baseline: Baseline, ids: PipelineId[], runs: RunRecord[]): Partial<Record<PipelineId, Ratio>> {
  const result: Partial<Record<PipelineId, Ratio>> = {};
  for (const id of ids) {
    if (id === baseline) continue;
    const cpu: number[] = [];
    const wall: number[] = [];
    for (const run of runs.filter((r) => r.pipeline === id)) {
      const base = runs.find((r) => r.pipeline === baseline && r.round === run.round);
      if (!base) continue;
      cpu.push(run.cpuSeconds / base.cpuSeconds);
      wall.push(run.wallSeconds / base.wallSeconds);
    }
    if (cpu.length > 0) result[id] = { cpu: spread(cpu), wall: spread(wall) };
  }
  return result;
}

export function buildReport(
  config: BenchConfig,
  machine: MachineInfo,
  pipelines: Pipeline[],
  runs: RunRecord[],
  startedAt: Date,
): BenchReport {
  const { json: _json, outDir: _outDir, ...kept } = config;
  const ids = pipelines.map((p) => p.id);
  const ratios: BenchReport['ratios'] = {};
  for (const baseline of ['original', 'one-ffmpeg'] as const) {
    if (ids.includes(baseline)) ratios[baseline] = ratiosAgainst(baseline, ids, runs);
  }
  return {
    schema: 1,
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    config: kept,
    pipelines: pipelines.map((p) => summarize(p, runs.filter((r) => r.pipeline === p.id))),
    ratios,
    runs,
  };
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function withRange(s: Spread, digits: number): string {
  return `${fixed(s.median, digits)} (${fixed(s.min, digits)}–${fixed(s.max, digits)})`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function describeSetup(c: BenchReport['config']): string {
  const ladder = c.renditions.map((r) => `${r.name} ${r.width}x${r.height}@${r.bitrate}k`).join(', ');
  const codec = c.encoder === 'nvenc' ? 'h264_nvenc p4' : `x264 ${c.preset}`;
  return `${c.width}x${c.height} rgb24 @ ${c.fps} fps → ${ladder}; ${codec}, GOP ${c.framesPerSegment} (${c.segmentSeconds} s segments), ` +
    `${c.scaleAlgorithm} scaling in ffmpeg, ${c.abrcastScaleAlgorithm} in abrcast; ${c.frames} frames x ${c.rounds} rounds`;
}

/** The markdown printed at the end of a bench: results, then ratios. */
export function formatTables(report: BenchReport): string {
  const m = report.machine;
  const header = `${report.date}, ${m.host}: ${m.nproc} x ${m.cpuModel}, load ${m.loadAverage.join(' ')}, ffmpeg ${m.ffmpeg}\n${describeSetup(report.config)}`;
  const results = table(
    ['pipeline', 'wall fps', 'CPU ms/frame', 'CPU s', 'peak RSS MiB (tree)', 'RSS added MiB', 'segments', 'segment event ms (median / p99)'],
    report.pipelines.map((p) => [
      p.label,
      withRange(p.fps, 1),
      withRange(p.cpuMsPerFrame, 1),
      fixed(p.cpuSeconds.median, 2),
      withRange(p.peakRssMiB, 0),
      fixed(p.addedRssMiB.median, 0),
      fixed(p.segments.median, 0),
      p.segmentLatencyMs ? `${fixed(p.segmentLatencyMs.median, 1)} / ${fixed(p.segmentLatencyMs.p99, 1)} (n=${p.segmentLatencyMs.count})` : '–',
    ]),
  );
  const parts = [header, '', 'Median (min–max) over rounds. CPU: user+sys of the bench process and its children. ' +
    'Peak RSS: sum of each process\'s VmHWM, the bench process (which holds the source frames) included; ' +
    'RSS added: that minus the bench process\'s RSS before the run. Segment event: write() of the frame that ends a segment to its \'segment\' event.', '', results];
  const measured = report.pipelines.filter((p) => p.quality);
  if (measured.length > 0) {
    const original = report.pipelines.find((p) => p.id === 'original')?.quality;
    const names = report.config.renditions.map((r) => r.name);
    const cell = (q: RenditionQuality | undefined, name: string) => {
      if (!q) return '–';
      const base = original?.find((o) => o.rendition === name);
      const delta = base ? ` (${q.psnrY - base.psnrY >= 0 ? '+' : ''}${fixed(q.psnrY - base.psnrY, 2)})` : '';
      return `${fixed(q.psnrY, 2)}${delta} / ${fixed(q.ssim, 4)} / ${fixed(q.kbps, 0)}`;
    };
    parts.push(
      '',
      `Quality of round 1's segments against the source scaled by ffmpeg (${REFERENCE_SCALER}): PSNR-Y dB (difference to the original shape) / SSIM-Y / kbit/s of segments:`,
      '',
      table(['pipeline', ...names], measured.map((p) => [p.label, ...names.map((name) => cell(p.quality!.find((q) => q.rendition === name), name))])),
    );
  }
  const baselines = Object.keys(report.ratios) as Baseline[];
  if (baselines.length > 0) {
    const names: Record<Baseline, string> = { original: 'original shape', 'one-ffmpeg': 'one ffmpeg' };
    const rows = report.pipelines.map((p) => [
      p.label,
      ...baselines.flatMap((b) => {
        const ratio = report.ratios[b]?.[p.id];
        return ratio ? [withRange(ratio.cpu, 2), withRange(ratio.wall, 2)] : ['–', '–'];
      }),
    ]);
    parts.push(
      '',
      'Ratios, pipeline ÷ baseline within each round (below 1: less CPU, less time), median (min–max):',
      '',
      table(['pipeline', ...baselines.flatMap((b) => [`CPU vs ${names[b]}`, `wall vs ${names[b]}`])], rows),
    );
  }
  return parts.join('\n');
}
