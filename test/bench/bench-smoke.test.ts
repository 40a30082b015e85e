// `npm run bench -- --quick --json` end to end: every pipeline runs every round,
// makes the same segments, and reports positive measurements. No speed limits:
// the numbers depend on the machine; only their presence and sense are checked.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { probeHardware } from '../../src/index.js';
import { bench } from './bench-process.js';

const PIPELINES = ['abrcast', 'abrcast-low-latency', 'original', 'one-ffmpeg', 'floor'];

interface Spread { median: number; min: number; max: number }
interface Run {
  round: number; pipeline: string; wallSeconds: number; fps: number; cpuSeconds: number; cpuMsPerFrame: number;
  benchCpuSeconds: number; childCpuSeconds: number; peakRssMiB: number; segments: number; segmentLatenciesMs?: number[];
  quality?: Quality[];
}
interface Quality { rendition: string; psnrY: number; ssim: number }
interface Report {
  date: string;
  machine: { host: string; nproc: number; cpuModel: string };
  config: { quick: boolean; frames: number; rounds: number; framesPerSegment: number; renditions: { name: string }[]; pipelines: string[] };
  pipelines: { id: string; label: string; rounds: number; fps: Spread; cpuMsPerFrame: Spread; peakRssMiB: Spread; segmentLatencyMs?: { median: number; p99: number; count: number }; quality?: Quality[] }[];
  ratios: Record<string, Record<string, { cpu: Spread; wall: Spread }>>;
  runs: Run[];
}



describe('npm run bench -- --quick --json', () => {
  let outDir: string;
  let report: Report;
  let stdout: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-test-'));
    const result = await bench(['--quick', '--json', '--out-dir', outDir], 150_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    stdout = result.stdout;
    report = JSON.parse(stdout) as Report;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('every pipeline ran in every round, in A B C D order', () => {
    assert.equal(report.config.quick, true);
    assert.deepEqual(report.config.pipelines, PIPELINES);
    assert.ok(report.config.rounds >= 2);
    assert.equal(report.runs.length, report.config.rounds * PIPELINES.length);
    report.runs.forEach((run, i) => {
      assert.equal(run.pipeline, PIPELINES[i % PIPELINES.length]);
      assert.equal(run.round, Math.floor(i / PIPELINES.length) + 1);
    });
    assert.deepEqual(report.pipelines.map((p) => p.id), PIPELINES);
    for (const p of report.pipelines) assert.equal(p.rounds, report.config.rounds);
  });

  test('every run made the same segments: one per started GOP in every rendition', () => {
    const { frames, framesPerSegment, renditions } = report.config;
    const expected = Math.ceil(frames / framesPerSegment) * renditions.length;
    assert.ok(expected > 0);
    for (const run of report.runs) assert.equal(run.segments, expected, `${run.pipeline} round ${run.round}`);
  });

  test('every run reports positive CPU, wall clock and memory', () => {
    for (const run of report.runs) {
      const where = `${run.pipeline} round ${run.round}`;
      for (const key of ['wallSeconds', 'fps', 'cpuSeconds', 'cpuMsPerFrame', 'benchCpuSeconds', 'peakRssMiB'] as const) {
        assert.ok(Number.isFinite(run[key]) && run[key] > 0, `${key} of ${where}: ${run[key]}`);
      }
      assert.ok(Math.abs(run.fps * run.wallSeconds - report.config.frames) < 1e-6, `fps x wall = frames for ${where}`);
      assert.ok(Math.abs(run.cpuSeconds - run.benchCpuSeconds - run.childCpuSeconds) < 1e-9, `CPU adds up for ${where}`);
      // The ffmpeg pipelines' encoding happens in children, whose CPU must be counted.
      if (run.pipeline.startsWith('abrcast')) assert.equal(run.childCpuSeconds, 0);
      else assert.ok(run.childCpuSeconds > 0, `child CPU of ${where}`);
    }
    for (const p of report.pipelines) {
      assert.ok(p.fps.min > 0 && p.fps.min <= p.fps.median && p.fps.median <= p.fps.max, `fps spread of ${p.id}`);
      assert.ok(p.cpuMsPerFrame.min > 0 && p.peakRssMiB.min > 0, `CPU and memory of ${p.id}`);
    }
  });

  test('abrcast reports a latency for every segment event', () => {
    const abrcast = report.pipelines.find((p) => p.id === 'abrcast')!;
    const events = report.runs.filter((r) => r.pipeline === 'abrcast').reduce((n, r) => n + r.segments, 0);
    assert.ok(abrcast.segmentLatencyMs, 'latency summary present');
    assert.equal(abrcast.segmentLatencyMs.count, events);
    assert.ok(abrcast.segmentLatencyMs.median > 0);
    assert.ok(abrcast.segmentLatencyMs.p99 >= abrcast.segmentLatencyMs.median);
  });

  test('PSNR-Y and SSIM of every rendition of every pipeline, measured on round 1', () => {
    const names = report.config.renditions.map((r) => r.name);
    for (const p of report.pipelines) {
      assert.deepEqual(p.quality?.map((q) => q.rendition), names, `quality of ${p.id}`);
      for (const q of p.quality!) {
        // An encode at these bitrates is far from lossless and far from noise.
        assert.ok(q.psnrY > 20 && q.psnrY < 60, `PSNR-Y of ${p.id} ${q.rendition}: ${q.psnrY}`);
        assert.ok(q.ssim > 0.5 && q.ssim < 1, `SSIM of ${p.id} ${q.rendition}: ${q.ssim}`);
      }
    }
    for (const run of report.runs) assert.equal(run.quality !== undefined, run.round === 1, `${run.pipeline} round ${run.round}`);
  });

  test('ratios against the original shape and one ffmpeg are positive', () => {
    for (const baseline of ['original', 'one-ffmpeg']) {
      const ratios = report.ratios[baseline];
      assert.ok(ratios, `ratios against ${baseline}`);
      for (const id of PIPELINES.filter((p) => p !== baseline)) {
        const ratio = ratios[id];
        assert.ok(ratio, `${id} against ${baseline}`);
        assert.ok(ratio.cpu.median > 0 && Number.isFinite(ratio.cpu.median));
        assert.ok(ratio.wall.median > 0 && Number.isFinite(ratio.wall.median));
      }
    }
  });

  test('writes the JSON and the SVG chart, and leaves latest.svg to full runs', async () => {
    const files = (await readdir(outDir)).sort();
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    const base = `${report.date}-${host}-quick`;
    assert.deepEqual(files, [`${base}.json`, `${base}.svg`]);
    assert.deepEqual(JSON.parse(await readFile(join(outDir, `${base}.json`), 'utf8')), JSON.parse(stdout));
    const svg = await readFile(join(outDir, `${base}.svg`), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    for (const p of report.pipelines) assert.ok(svg.includes(`>${p.label.replace(/&/g, '&amp;')}</text>`), `label ${p.label}`);
    assert.equal((svg.match(/<rect /g) ?? []).length, 1 + 2 * PIPELINES.length, 'background plus two bars per pipeline');
  });
});

describe('bench command line errors', () => {
  test('a bad option value fails with the option named, before any work', async () => {
    const result = await bench(['--frames', '0'], 30_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Expected integer between 1 and 100000 for --frames but received 0/);
    assert.equal(result.stdout, '');
  });

  test('--encoder nvenc without a usable GPU fails with one clear line', async (t) => {
    const hardware = await probeHardware({ width: 320, height: 180 });
    if (hardware.cuda && hardware.nvenc) {
      t.skip('this machine has NVENC');
      return;
    }
    const result = await bench(['--quick', '--encoder', 'nvenc', '--out-dir', join(tmpdir(), 'abrcast-bench-never')], 30_000);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line, got:\n${result.stderr}`);
    assert.match(lines[0]!, /^bench: --encoder nvenc needs an NVIDIA GPU with NVENC, and none is usable here: \S/);
    assert.equal(result.stdout, '');
  });
});
