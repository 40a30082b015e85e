// `npm run bench -- --case latency --quick --json` end to end, short: the report has every
// figure the case promises, in its shape. No timing thresholds: whether the goals are met
// is what the bench reports, not what a test on a loaded machine decides.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { LatencyReport } from '../../bench/latency.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case latency --quick', () => {
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-latency-out-'));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  test('reports latency per run and player over HTTP/1.1 and HTTP/2, first master per launch and the cross-process wake-up', { timeout: 600_000 }, async () => {
    const result = await bench(['--case', 'latency', '--quick', '--seconds', '4', '--launches', '1', '--rounds', '5', '--out-dir', outDir, '--json'], 580_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as LatencyReport;
    assert.equal(report.case, 'latency');
    assert.deepEqual(report.goals, { medianLatencyS: 2, maxStallS: 0.5, firstMasterS: 3, wakeupP99Ms: 50 });
    // Per container: LL over HTTP/1.1 and HTTP/2, watched by hls.js and Shaka (and dash.js on the fMP4
    // run's MPD), then hls.js on the LL run with --encrypt; last, hls.js on a plain run.
    const players = (container: string) => (container === 'fmp4' ? ['hls.js', 'shaka', 'dash.js'] : ['hls.js', 'shaka']);
    const expected = ['ts', 'fmp4'].flatMap((container) => [
      ...['http/1.1', 'h2'].flatMap((over) => players(container).map((player) => [container, true, false, over, player])),
      [container, true, true, 'http/1.1', 'hls.js'],
    ]);
    assert.deepEqual(report.runs.map((run) => [run.container, run.lowLatency, run.encrypted, run.servedOver, run.player]), [...expected, ['ts', false, false, 'http/1.1', 'hls.js']]);
    assert.match(result.stderr, /Encrypted LL against clear LL, median latency: ts: [+-]\d+\.\d\d s, fmp4: [+-]\d+\.\d\d s/);
    for (const run of report.runs) {
      const { probe } = run;
      const label = `${run.container} ${run.player} over ${run.servedOver}`;
      assert.deepEqual(probe.fatalErrors, [], `${label}: no fatal player error`);
      assert.ok(probe.sampleCount > 0 && probe.medianLatencyS !== null && probe.medianLatencyS > 0, `${label}: latency measured`);
      assert.ok(probe.p95LatencyS! >= probe.medianLatencyS!);
      assert.ok(probe.maxStallAfterS >= 0 && run.firstMasterS > 0);
      assert.equal(probe.partsInPlaylist, run.lowLatency, `${label}: parts seen`);
      assert.deepEqual(Object.keys(probe.protocols).filter((p) => p !== 'cache' && p !== 'aborted'), [run.servedOver], `${label}: the HTTP version Chromium used`);
      if (run.player === 'dash.js') {
        assert.ok(probe.requests.segments > 0, `${label}: segments loaded`);
      } else if (run.lowLatency) {
        assert.ok(probe.requests.parts > 0 && probe.requests.blockingReloads > 0, `${label}: parts and blocking reloads used`);
      }
      if (run.lowLatency) {
        assert.deepEqual(Object.keys(run.meetsGoals!), ['medianLatency', 'maxStall']);
      } else {
        assert.equal(run.meetsGoals, null);
      }
    }
    assert.match(result.stderr, /Players side by side/);
    assert.match(result.stderr, /ts\s+h2\s+\d+\.\d+ s \/ \d+\.\d+ s, stall \d+\.\d+ s \(h2\)\s+\d+\.\d+ s/, 'the side-by-side table has both players over h2');
    assert.equal(report.firstMaster.launchesS.length, 1);
    assert.ok(report.firstMaster.coldS > 0 && report.firstMaster.medianS > 0);
    assert.equal(typeof report.firstMaster.meetsGoal, 'boolean');
    assert.ok(!('skipped' in report.wakeup) && !('error' in report.wakeup), `wake-up measured: ${JSON.stringify(report.wakeup)}`);
    assert.equal(report.wakeup.latenciesMs.length, 5);
    assert.ok(report.wakeup.p50Ms <= report.wakeup.p99Ms);
    assert.match(result.stderr, /First master after launch: median/);
    assert.deepEqual((await readdir(outDir)).filter((name) => name.endsWith('-latency-quick.json')).length, 1, 'results written');
  });
});
