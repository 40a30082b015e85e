// `npm run bench -- --case soak --quick --json`: the CI version of the soak, a
// simulated 10-minute run (600 segments per rendition) on the embedded setup.
// It checks the report's structure and what does not depend on timing: every
// segment recorded and listed, playlist bytes per reload growing linearly and
// gzip cutting them. The latency and RSS limits are the full run's to judge.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bench } from './bench-process.js';

interface Check { value: number; limit: number; pass: boolean }
interface Checkpoint {
  percent: number; segments: number; simulatedSeconds: number; wallSeconds: number;
  segmentBytes: number; storeBytes: number; storeOverSegments: number; rssMiB: number; heapUsedMiB: number;
  publishLatencyMs: { count: number; p50: number; p99: number };
  routeLatencyMs: { runStatus: { p50: number; p99: number }; playlist: { p50: number; p99: number } };
  playlistBytes: { plain: number; gzip: number };
}
interface SoakReport {
  case: 'soak';
  date: string;
  machine: { host: string };
  config: { quick: boolean; minutes: number; segmentSeconds: number; probeSegments: number; routeSamples: number; setups: string[]; renditions: { name: string }[] };
  skipped: unknown[];
  setups: {
    setup: string; runId: string; renditions: string[]; segmentsPerRendition: number;
    checkpoints: Checkpoint[];
    checks: Record<'storeOverSegments' | 'rssGrowth' | 'runStatusLatencyGrowth' | 'playlistLatencyGrowth', Check> & { playlistGzipRatio: { value: number } };
    registryCounts: Record<string, { recorded: number; contiguous: number }>;
    warnings: string[];
  }[];
}

describe('npm run bench -- --case soak --quick --json', () => {
  let outDir: string;
  let report: SoakReport;
  let stderr: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-soak-'));
    const result = await bench(['--case', 'soak', '--quick', '--json', '--out-dir', outDir], 600_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    stderr = result.stderr;
    report = JSON.parse(result.stdout) as SoakReport;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('a simulated 10-minute run on the embedded setup, written as printed', async () => {
    assert.equal(report.case, 'soak');
    assert.equal(report.config.quick, true);
    assert.equal(report.config.minutes, 10);
    assert.deepEqual(report.config.setups, ['embedded']);
    assert.deepEqual(report.skipped, []);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    assert.deepEqual(await readdir(outDir), [`${report.date}-${host}-soak-quick.json`]);
    assert.deepEqual(JSON.parse(await readFile(join(outDir, `${report.date}-${host}-soak-quick.json`), 'utf8')), report);
    assert.match(stderr, /\| embedded \(HeliaStore \+ PGlite\) \| 100 % \(600\) \|/);
  });

  test('checkpoints at 10, 50 and 100 %, and every segment recorded and listed', () => {
    const [setup] = report.setups;
    assert.equal(setup!.segmentsPerRendition, 600);
    assert.deepEqual(setup!.renditions, report.config.renditions.map((r) => r.name));
    assert.equal(setup!.renditions.length, 3);
    assert.deepEqual(setup!.checkpoints.map((c) => [c.percent, c.segments, c.simulatedSeconds]), [[10, 60, 60], [50, 300, 300], [100, 600, 600]]);
    for (const name of setup!.renditions) assert.deepEqual(setup!.registryCounts[name], { recorded: 600, contiguous: 600 }, name);
    assert.deepEqual(setup!.warnings, []);
    let previous: Checkpoint | undefined;
    for (const c of setup!.checkpoints) {
      const where = `${c.percent} %`;
      assert.ok(c.segmentBytes > 0 && c.storeBytes > 0 && c.rssMiB > 0, where);
      assert.ok(Math.abs(c.storeOverSegments - c.storeBytes / c.segmentBytes) < 1e-3, where);
      // The store holds at least every segment (a ratio below 1 would mean the measure is wrong).
      assert.ok(c.storeOverSegments >= 1, `${where}: ${c.storeOverSegments}`);
      // The probe's last segment is only complete when the next one starts, or at close (100 %).
      const probed = c.percent === 100 ? report.config.probeSegments : report.config.probeSegments - 1;
      assert.equal(c.publishLatencyMs.count, probed * 3, where);
      for (const p of [c.publishLatencyMs, c.routeLatencyMs.runStatus, c.routeLatencyMs.playlist]) {
        assert.ok(p.p50 > 0 && p.p50 <= p.p99, `${where}: ${JSON.stringify(p)}`);
      }
      if (previous) {
        assert.ok(c.segmentBytes > previous.segmentBytes && c.wallSeconds > previous.wallSeconds, where);
      }
      previous = c;
    }
  });

  test('playlist bytes per reload grow with the run, and gzip cuts them', () => {
    const [setup] = report.setups;
    const [first, , last] = setup!.checkpoints;
    // One line pair per segment: 10x the segments, about 10x the bytes.
    const growth = last!.playlistBytes.plain / first!.playlistBytes.plain;
    assert.ok(growth > 8 && growth < 11, `plain playlist grew ${growth}x`);
    for (const c of setup!.checkpoints) {
      // CIDs are random base32, so gzip saves less than on text, but well over a third.
      assert.ok(c.playlistBytes.gzip > 0 && c.playlistBytes.gzip < c.playlistBytes.plain * 0.6, `${c.percent} %: ${JSON.stringify(c.playlistBytes)}`);
    }
    assert.equal(setup!.checks.playlistGzipRatio.value, Math.round((last!.playlistBytes.gzip / last!.playlistBytes.plain) * 1000) / 1000);
  });

  test('the checks compare the end with the first checkpoint against the issue limits', () => {
    const [setup] = report.setups;
    const [first, , last] = setup!.checkpoints;
    const { checks } = setup!;
    assert.deepEqual(
      [checks.storeOverSegments.limit, checks.rssGrowth.limit, checks.runStatusLatencyGrowth.limit, checks.playlistLatencyGrowth.limit],
      [1.05, 1.1, 2, 2],
    );
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-2;
    assert.ok(near(checks.storeOverSegments.value, last!.storeOverSegments));
    assert.ok(near(checks.rssGrowth.value, last!.rssMiB / first!.rssMiB));
    assert.ok(near(checks.runStatusLatencyGrowth.value, last!.routeLatencyMs.runStatus.p99 / first!.routeLatencyMs.runStatus.p99));
    assert.ok(near(checks.playlistLatencyGrowth.value, last!.routeLatencyMs.playlist.p99 / first!.routeLatencyMs.playlist.p99));
    for (const check of Object.values(checks)) if ('pass' in check) assert.equal(check.pass, check.value <= check.limit);
  });
});
