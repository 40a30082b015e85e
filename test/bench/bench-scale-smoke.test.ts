// `npm run bench -- --case scale --quick --json` end to end: real PostgreSQL, 2
// Kubo peers, 2 `abrcast serve` processes behind HAProxy, an LL producer and
// Chromium. No speed limits: only that both load phases ran with the instances
// they name, every request through HAProxy got a 2xx, the CPU split covers the
// instances in rotation, and the propagation and latency figures are there; the
// file written is the JSON printed.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ScaleReport } from '../../bench/scale.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case scale --quick --json', () => {
  let outDir: string;
  let report: ScaleReport;
  let stderr: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-scale-'));
    const result = await bench(['--case', 'scale', '--quick', '--json', '--out-dir', outDir], 180_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    stderr = result.stderr;
    report = JSON.parse(result.stdout) as ScaleReport;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('writes the JSON it prints, and the table', async () => {
    assert.equal(report.case, 'scale');
    assert.equal(report.config.quick, true);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    const name = `${report.date}-${host}-scale-quick.json`;
    assert.deepEqual(await readdir(outDir), [name]);
    assert.deepEqual(JSON.parse(await readFile(join(outDir, name), 'utf8')), report);
    assert.match(stderr, /^\| 1 \| \d+ \|/m);
    assert.match(stderr, /^\| 2 \| \d+ \|/m);
    assert.match(stderr, /2 instances \/ 1: \d+\.\d\d x/);
  });

  test('one instance, then two: every request answered 2xx, CPU where the instances are', () => {
    const { one, two, ratio, path } = report.playlist;
    assert.match(path, /^\/runs\/\w+\/quality\/\w+\/playlist\.m3u8$/);
    assert.deepEqual([one.instances, two.instances], [1, 2]);
    for (const phase of [one, two]) {
      assert.ok(phase.requests.total > 0 && phase.requests.perSecondMean > 0);
      assert.equal(phase.non2xx + phase.errors, 0);
      assert.ok(phase.requestsPerServeCpuSecond >= phase.requestsPerCpuSecond && phase.requestsPerCpuSecond > 0);
    }
    // With serve2 in maintenance it answers nothing: its CPU stays near idle (health checks only).
    assert.ok(one.cpuSeconds.serve1 > one.cpuSeconds.serve2, JSON.stringify(one.cpuSeconds));
    assert.ok(two.cpuSeconds.serve1 > 0 && two.cpuSeconds.serve2 > 0, JSON.stringify(two.cpuSeconds));
    assert.ok(Math.abs(ratio - two.requests.perSecondMean / one.requests.perSecondMean) < 1e-9);
  });

  test('peer propagation: add on A, fetchable on B, replicated add, as percentiles', () => {
    const p = report.propagation;
    assert.equal(p.samples, report.config.samples);
    for (const figures of [p.addMs, p.propagationMs, p.fetchMs, p.replicatedAddMs]) {
      assert.ok(figures.p50 > 0 && figures.p99 >= figures.p50, JSON.stringify(figures));
    }
    assert.ok(p.propagationMs.p50 >= p.addMs.p50);
  });

  test('LL latency of one run, from its producer and through HAProxy, both measured, and their difference', () => {
    const { singleProcess, throughHaproxy, medianDifferenceS } = report.latency;
    for (const side of [singleProcess, throughHaproxy]) {
      assert.deepEqual(side.fatalErrors, []);
      assert.ok(side.partsInPlaylist && side.requests.blockingReloads > 0, JSON.stringify(side.requests));
      assert.ok(side.medianLatencyS !== null && side.medianLatencyS > 0, String(side.medianLatencyS));
    }
    assert.ok(Math.abs(medianDifferenceS - (throughHaproxy.medianLatencyS! - singleProcess.medianLatencyS!)) < 0.002);
    assert.match(stderr, /Difference of the medians: -?\d+\.\d\d s\./);
    // serve1 was killed during the watch; the HAProxy page still had no fatal error (checked above).
    assert.ok(report.latency.serveKill.atS > 0 && report.latency.serveKill.longestStallS >= 0, JSON.stringify(report.latency.serveKill));
  });
});
