// `npm run bench -- --case streams --quick --json` end to end: K paced ladders
// in one abrcast process and K ffmpeg processes, K = 1 then 2. No speed limits
// (the machine may be busy): only that each side ran the trials the search
// asked for, every stream wrote every frame and got every segment, the figures
// are there and consistent, and the file written is the JSON printed.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StreamsReport } from '../../bench/streams.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case streams --quick --json', () => {
  let outDir: string;
  let report: StreamsReport;
  let stderr: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-streams-'));
    const result = await bench(['--case', 'streams', '--quick', '--json', '--out-dir', outDir], 180_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    stderr = result.stderr;
    report = JSON.parse(result.stdout) as StreamsReport;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('writes the JSON it prints, and the table', async () => {
    assert.equal(report.case, 'streams');
    assert.equal(report.config.quick, true);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    const name = `${report.date}-${host}-streams-quick.json`;
    assert.deepEqual(await readdir(outDir), [name]);
    assert.deepEqual(JSON.parse(await readFile(join(outDir, name), 'utf8')), report);
    assert.match(stderr, /^\| abrcast \| 1 \| (yes|no) \|/m);
    assert.match(stderr, /^\| ffmpeg \| 1 \| (yes|no) \|/m);
    assert.match(stderr, /Largest K in real time: abrcast \d+, ffmpeg \d+/);
  });

  test('each side searched K from 1, and its largest K is the largest that kept real time', () => {
    for (const side of ['abrcast', 'ffmpeg'] as const) {
      const trials = report.trials.filter((t) => t.side === side);
      assert.equal(trials[0]?.streams, 1, `${side} starts at 1`);
      const kept = trials.filter((t) => t.realTime).map((t) => t.streams);
      assert.equal(report.largest[side], kept.length ? Math.max(...kept) : 0);
      // Doubling stops at the first late K or at --max-streams (2 in --quick).
      for (const t of trials) assert.ok(t.streams <= report.config.maxStreams, JSON.stringify(t));
    }
  });

  test('every stream wrote every frame and got every segment; lateness, CPU and memory are measured', () => {
    const segments = Math.ceil(report.config.frames / report.config.framesPerSegment);
    for (const trial of report.trials) {
      assert.equal(trial.perStream.length, trial.streams);
      for (const stream of trial.perStream) {
        assert.equal(stream.frames, report.config.frames, JSON.stringify(stream));
        assert.equal(stream.segments, segments, JSON.stringify(stream));
        assert.ok(stream.maxSegmentLagMs >= stream.medianSegmentLagMs, JSON.stringify(stream));
      }
      assert.equal(trial.realTime, trial.maxWriteLagMs <= report.config.segmentSeconds * 1000 && trial.maxSegmentLagMs <= report.config.segmentSeconds * 1000);
      assert.ok(trial.cpuCoresPerStream > 0 && trial.rssPerStreamMiB > 0, JSON.stringify(trial));
      assert.ok(Math.abs(trial.rssPerStreamMiB * trial.streams - trial.rssTotalMiB) < 0.1 * trial.streams, JSON.stringify(trial));
      if (trial.side === 'ffmpeg') assert.ok(trial.feederCoresPerStream !== undefined);
      else {
        assert.ok(trial.threads! > 0 && trial.processBaseMiB! > 0, JSON.stringify(trial));
        // One thread budget for the process, split among its K encoders.
        assert.equal(trial.threadPlan!.encoders, trial.streams, JSON.stringify(trial.threadPlan));
      }
    }
  });
});
