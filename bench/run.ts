// `npm run bench`: runs the pipelines in turn (A B C D A B C D ...) on the same
// precomputed frames, prints the tables and writes the JSON and the chart.
// `--case publish|endpoint` runs a service case instead (run-service-case.ts); `--case container`
// compares TS and fMP4 bytes per second (container-bytes.ts); `--case latency` measures LL-HLS
// latency in Chromium, time to the first master and cross-process wake-up (latency.ts); `--case scale`
// measures serve instances behind HAProxy and Kubo peer propagation (scale.ts); `--case streams` how many
// paced ladders one abrcast process keeps in real time against one ffmpeg per stream (streams.ts);
// `--case viewers` how many LL-HLS viewers one serve process keeps, and hostile held requests against hls.js (viewers.ts);
// `--case abr` hls.js, Shaka (LL-HLS) and dash.js (LL-DASH) under a throttled network: rungs, stalls, latency (abr.ts);
// `--case encryption` what encrypting a 1080p ladder's segments and parts costs per frame (encryption.ts).
import { rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { probeHardware } from '../src/index.js';
import { loadNativeAddon } from '../src/native/binding.js';
import { renderChart } from './chart.js';
import { containerBytesMain } from './container-bytes.js';
import { encryptionMain } from './encryption.js';
import type { AnyBenchConfig, BenchConfig } from './config.js';
import { makeFrameRing } from './frames.js';
import { abrMain } from './abr.js';
import { latencyMain } from './latency.js';
import { describeMachine } from './machine.js';
import { parseBenchOptions, USAGE } from './options.js';
import { PIPELINES } from './pipelines/index.js';
import { measureQuality, prepareReferences } from './quality.js';
import { buildReport, describeSetup, formatTables, type BenchReport } from './report.js';
import { runPipeline, type RunRecord } from './run-pipeline.js';
import { benchServiceCase } from './run-service-case.js';
import { scaleMain } from './scale.js';
import { streamsMain } from './streams.js';
import { viewersMain } from './viewers.js';
import { log } from './log.js';

class UsageError extends Error {}


async function checkEncoderAvailable(config: BenchConfig): Promise<void> {
  if (config.encoder !== 'nvenc') return;
  const smallest = config.renditions.reduce((a, b) => (a.width * a.height <= b.width * b.height ? a : b));
  const report = await probeHardware({ width: smallest.width, height: smallest.height });
  if (!report.cuda || !report.nvenc) {
    throw new Error(`--encoder nvenc needs an NVIDIA GPU with NVENC, and none is usable here: ${report.reason ?? 'not available'}`);
  }
}

async function writeResults(report: BenchReport, config: BenchConfig): Promise<string[]> {
  await mkdir(config.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  // Quick runs are smoke tests: they keep their own name and never replace the README's chart.
  const tag = config.tag ?? (config.quick ? 'quick' : undefined);
  const base = join(config.outDir, `${report.date}-${host}${tag ? `-${tag}` : ''}`);
  const svg = renderChart(report);
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.svg`, svg);
  const written = [`${base}.json`, `${base}.svg`];
  if (!config.quick) {
    await copyFile(`${base}.svg`, join(config.outDir, 'latest.svg'));
    written.push(join(config.outDir, 'latest.svg'));
  }
  return written;
}

async function bench(config: BenchConfig): Promise<void> {
  await checkEncoderAvailable(config);
  const machine = await describeMachine();
  const pipelines = config.pipelines.map((id) => PIPELINES[id]);
  if (machine.ffmpeg === 'not found' && pipelines.some((p) => p.id !== 'abrcast')) {
    throw new Error('the ffmpeg pipelines need the ffmpeg command on PATH (e.g. apt-get install ffmpeg), or pass --only abrcast');
  }
  const startedAt = new Date();
  log(`bench: ${config.pipelines.join(', ')}; ${describeSetup(config)}`);
  log(`bench: ${machine.nproc} x ${machine.cpuModel}, load ${machine.loadAverage.join(' ')}`);

  const generating = performance.now();
  const ring = makeFrameRing(config.width, config.height, config.ringFrames);
  log(`bench: ${config.ringFrames} source frames made in ${((performance.now() - generating) / 1000).toFixed(1)} s (not timed)`);

  // A real process loads the addon once; do it before timing so round 1 of abrcast does not pay for it.
  if (config.pipelines.includes('abrcast')) loadNativeAddon();

  const workDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-'));
  const onSignal = () => {
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const runs: RunRecord[] = [];
  try {
    for (const pipeline of pipelines) await pipeline.prepare?.({ config, ring, workDir });
    if (config.quality) await prepareReferences(config, ring, workDir);
    // Quality is the same every round (same frames, same settings): measured on round 1's segments.
    const inspect = (round: number) => (config.quality && round === 1 ? (dir: string) => measureQuality(config, dir, workDir) : undefined);
    for (let round = 1; round <= config.rounds; round++) {
      for (const pipeline of pipelines) {
        const run = await runPipeline(pipeline, { config, ring, workDir }, round, inspect(round));
        runs.push(run);
        log(
          `bench: round ${round}/${config.rounds} ${pipeline.label.padEnd(18)} ${run.fps.toFixed(1).padStart(6)} fps ` +
            `${run.cpuMsPerFrame.toFixed(1).padStart(6)} CPU ms/frame ${run.peakRssMiB.toFixed(0).padStart(5)} MiB ${run.segments} segments`,
        );
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }

  const report = buildReport(config, machine, pipelines, runs, startedAt);
  const written = await writeResults(report, config);
  const tables = formatTables(report);
  if (config.json) {
    log(`\n${tables}\n`);
    for (const path of written) log(`wrote ${path}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${tables}\n\n${written.map((p) => `wrote ${p}`).join('\n')}\n`);
  }
}

async function main(): Promise<number> {
  // Cases with their own flags: --case container (container-bytes.ts), latency (latency.ts), scale (scale.ts),
  // streams (streams.ts), viewers (viewers.ts), encryption (encryption.ts).
  const argv = process.argv.slice(2);
  const ownFlags = [
    ['container', containerBytesMain], ['latency', latencyMain], ['abr', abrMain], ['scale', scaleMain], ['streams', streamsMain], ['viewers', viewersMain],
    ['encryption', encryptionMain],
  ] as const;
  for (const [name, caseMain] of ownFlags) {
    const at = argv.findIndex((arg, i) => arg === `--case=${name}` || (arg === '--case' && argv[i + 1] === name));
    if (at >= 0) {
      await caseMain([...argv.slice(0, at), ...argv.slice(at + (argv[at] === '--case' ? 2 : 1))]);
      return 0;
    }
  }
  let config: AnyBenchConfig;
  try {
    const parsed = parseBenchOptions(process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (config.case === 'pipelines') await bench(config);
  else await benchServiceCase(config);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    // One line, no stack: these are setup problems (options, GPU, ffmpeg) or a failed child.
    log(`bench: ${error.message.split('\n')[0]}`);
    if (error instanceof UsageError) log('Run with --help for the options.');
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
