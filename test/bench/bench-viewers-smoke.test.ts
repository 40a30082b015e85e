// `npm run bench -- --case viewers --quick --json` end to end, short: the report has every
// figure the case promises, in its shape, and the viewers saw every part without errors.
// No timing thresholds: whether the goals are met is what the bench reports, not what a
// test on a loaded machine decides.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { ViewersReport } from '../../bench/viewers.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case viewers --quick', () => {
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-viewers-out-'));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  test('reports delays, errors, serve CPU and RSS per K, and hls.js alone and under hostile held requests', { timeout: 600_000 }, async () => {
    const result = await bench(['--case', 'viewers', '--quick', '--viewers', '5,20', '--seconds', '3', '--hostile', '50', '--probe-seconds', '6', '--out-dir', outDir, '--json'], 580_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as ViewersReport;
    assert.equal(report.case, 'viewers');
    assert.deepEqual(report.goals, { viewers: 1000, firstAnswerP95Ms: 250, spreadP95Ms: 250, errorRate: 0.001 });
    assert.deepEqual(report.producerFailures, []);
    assert.deepEqual(report.steps.map((step) => step.viewers), [5, 20]);
    for (const step of report.steps) {
      assert.ok(step.partsMeasured >= 3, `${step.viewers}: parts in the window`);
      assert.equal(step.firstAnswerMs.count, step.partsMeasured, `${step.viewers}: every part reached a viewer`);
      assert.ok(step.firstAnswerMs.p50! >= 0 && step.firstAnswerMs.p50! <= step.firstAnswerMs.p95! && step.firstAnswerMs.p95! <= step.firstAnswerMs.p99!);
      assert.ok(step.spreadMs.count > 0 && step.spreadMs.p50! >= 0);
      assert.ok(step.requests.playlists > 0 && step.requests.parts > 0);
      assert.equal(step.errors, 0, `${step.viewers}: ${JSON.stringify(step.errorKinds)}`);
      assert.ok(step.serve.cpuSeconds > 0 && step.serve.rssMiB > 0 && step.serve.cpuCoresPer1000Viewers > 0);
      assert.deepEqual(Object.keys(step.meetsGoals), ['firstAnswerP95', 'spreadP95', 'errorRate']);
    }
    assert.ok(!('skipped' in report.hostile) && !('error' in report.hostile), `hostile phase ran: ${JSON.stringify(report.hostile)}`);
    assert.equal(report.hostile.hostile, 50);
    assert.ok(report.hostile.hostileAnswers > 0);
    for (const probe of [report.hostile.alone, report.hostile.underLoad]) {
      assert.deepEqual(probe.fatalErrors, []);
      assert.ok(probe.medianLatencyS !== null && probe.playedS > 0 && probe.requests.parts > 0);
    }
    assert.match(result.stderr, /LL viewers on one abrcast serve/);
    assert.equal((await readdir(outDir)).filter((name) => name.endsWith('-viewers-quick.json')).length, 1, 'results written');
  });
});
