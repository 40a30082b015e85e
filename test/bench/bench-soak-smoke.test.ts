// `npm run bench -- --case soak --quick --json`: the CI version of the soak, a
// simulated 10-minute channel (600 segments per rendition, a 60-s window,
// 60-s archive chunks, LL-HLS parts) on the embedded setup. It checks the
// report's structure and what does not depend on timing: every segment
// recorded and listed, playlist bytes per reload staying flat (the window),
// the archive growing, parts released (store/segments). The latency and RSS
// limits are the full day's to judge.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bench } from './bench-process.js';

interface Check { value: number; limit: number; pass: boolean }
interface Checkpoint {
  segments: number; simulatedSeconds: number; wallSeconds: number;
  segmentBytes: number; storeBytes: number; storeOverSegments: number; rssMiB: number; heapUsedMiB: number;
  publishLatencyMs: { count: number; p50: number; p99: number };
  routeLatencyMs: { runStatus: { p50: number; p99: number }; playlist: { p50: number; p99: number } };
  playlistBytes: { plain: number; gzip: number };
  archiveChunks: number;
}
interface SoakReport {
  case: 'soak';
  date: string;
  machine: { host: string };
  config: {
    quick: boolean; minutes: number; segmentSeconds: number; probeSegments: number; routeSamples: number; setups: string[];
    renditions: { name: string }[]; windowSeconds: number; archiveSeconds: number; partFrames: number;
  };
  skipped: unknown[];
  setups: {
    setup: string; runId: string; renditions: string[]; segmentsPerRendition: number;
    checkpoints: Checkpoint[];
    checks: Record<'storeOverSegments' | 'rssGrowth' | 'publishLatencyGrowth' | 'playlistLatencyGrowth', Check> & { playlistGzipRatio: { value: number } };
    registryCounts: Record<string, { recorded: number; contiguous: number }>;
    wallSeconds: number;
    load: { start: number[]; end: number[] };
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

  test('a simulated 10-minute channel on the embedded setup, written as printed', async () => {
    assert.equal(report.case, 'soak');
    assert.equal(report.config.quick, true);
    assert.equal(report.config.minutes, 10);
    assert.deepEqual([report.config.windowSeconds, report.config.archiveSeconds, report.config.partFrames], [60, 60, 10]);
    assert.deepEqual(report.config.setups, ['embedded']);
    assert.deepEqual(report.skipped, []);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    assert.deepEqual(await readdir(outDir), [`${report.date}-${host}-soak-quick.json`]);
    assert.deepEqual(JSON.parse(await readFile(join(outDir, `${report.date}-${host}-soak-quick.json`), 'utf8')), report);
    assert.match(stderr, /\| embedded \(HeliaStore \+ PGlite\) \| 0\.17 h \(600\) \|/);
  });

  test('checkpoints after the first 10 % and each quarter, and every segment recorded and listed', () => {
    const [setup] = report.setups;
    assert.equal(setup!.segmentsPerRendition, 600);
    assert.deepEqual(setup!.renditions, report.config.renditions.map((r) => r.name));
    assert.equal(setup!.renditions.length, 3);
    assert.deepEqual(setup!.checkpoints.map((c) => [c.segments, c.simulatedSeconds]), [[60, 60], [150, 150], [300, 300], [450, 450], [600, 600]]);
    for (const name of setup!.renditions) assert.deepEqual(setup!.registryCounts[name], { recorded: 600, contiguous: 600 }, name);
    assert.deepEqual(setup!.warnings, []);
    let previous: Checkpoint | undefined;
    for (const c of setup!.checkpoints) {
      const where = `${c.segments} segments`;
      assert.ok(c.segmentBytes > 0 && c.storeBytes > 0 && c.rssMiB > 0, where);
      assert.ok(Math.abs(c.storeOverSegments - c.storeBytes / c.segmentBytes) < 1e-3, where);
      assert.ok(c.storeOverSegments >= 1, `${where}: ${c.storeOverSegments}`);
      // Probe segments are published once the next one is fed: all but the last of each probe.
      assert.ok(c.publishLatencyMs.count >= (report.config.probeSegments - 1) * 3, `${where}: ${c.publishLatencyMs.count}`);
      for (const p of [c.publishLatencyMs, c.routeLatencyMs.runStatus, c.routeLatencyMs.playlist]) {
        assert.ok(p.p50 > 0 && p.p50 <= p.p99, `${where}: ${JSON.stringify(p)}`);
      }
      if (previous) {
        assert.ok(c.segmentBytes > previous.segmentBytes && c.wallSeconds > previous.wallSeconds, where);
        assert.ok(c.archiveChunks >= previous.archiveChunks, where);
      }
      previous = c;
    }
    // Parts are released and older playlist versions too: the store holds the media about once.
    assert.ok(setup!.checkpoints.at(-1)!.storeOverSegments < 1.05, `store/segments ${setup!.checkpoints.at(-1)!.storeOverSegments}`);
    // What slid out of the 60-s window was archived in 60-s chunks, the newest 60 s not yet.
    assert.ok(setup!.checkpoints.at(-1)!.archiveChunks >= 8, `${setup!.checkpoints.at(-1)!.archiveChunks} archive chunks`);
  });

  test('a playlist reload stays the size of the window however long the channel runs, and gzip cuts it', () => {
    const [setup] = report.setups;
    const sizes = setup!.checkpoints.map((c) => c.playlistBytes.plain);
    // Once the window is full (60 segments), one reload is about the same size at every checkpoint.
    assert.ok(Math.max(...sizes) < 1.5 * Math.min(...sizes), `playlist bytes ${sizes.join(', ')}`);
    for (const c of setup!.checkpoints) assert.ok(c.playlistBytes.gzip > 0 && c.playlistBytes.gzip < c.playlistBytes.plain * 0.6, JSON.stringify(c.playlistBytes));
    const last = setup!.checkpoints.at(-1)!;
    assert.equal(setup!.checks.playlistGzipRatio.value, Math.round((last.playlistBytes.gzip / last.playlistBytes.plain) * 1000) / 1000);
  });

  test('the checks compare the end with the first checkpoint against the issue limits', () => {
    const [setup] = report.setups;
    const first = setup!.checkpoints[0]!;
    const last = setup!.checkpoints.at(-1)!;
    const { checks } = setup!;
    assert.deepEqual(
      [checks.storeOverSegments.limit, checks.rssGrowth.limit, checks.publishLatencyGrowth.limit, checks.playlistLatencyGrowth.limit],
      [1.05, 1.2, 1.2, 1.2],
    );
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-2;
    assert.ok(near(checks.storeOverSegments.value, last.storeOverSegments));
    assert.ok(near(checks.rssGrowth.value, last.rssMiB / first.rssMiB));
    assert.ok(near(checks.publishLatencyGrowth.value, last.publishLatencyMs.p99 / first.publishLatencyMs.p99));
    assert.ok(near(checks.playlistLatencyGrowth.value, last.routeLatencyMs.playlist.p99 / first.routeLatencyMs.playlist.p99));
    for (const check of Object.values(checks)) if ('pass' in check) assert.equal(check.pass, check.value <= check.limit);
  });
});
