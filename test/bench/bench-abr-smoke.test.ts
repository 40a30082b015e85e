// `npm run bench -- --case abr --quick` end to end, short: every player plays the
// throttled live run without a fatal error, and the report has every figure the case
// promises, in its shape. No timing thresholds: whether the goals are met is what the
// bench reports (on a quiet machine), not what a test on a loaded one decides.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { AbrReport } from '../../bench/abr.js';
import { bench } from './bench-process.js';

describe('npm run bench -- --case abr --quick', () => {
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-abr-out-'));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  test('reports the rungs, switches, stalls and latency of each player under a throttled network', { timeout: 600_000 }, async () => {
    const players = ['hls.js', 'shaka', 'dash.js'];
    const result = await bench(['--case', 'abr', '--quick', '--phase', '5', '--players', players.join(','), '--out-dir', outDir, '--json'], 580_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as AbrReport;
    assert.equal(report.case, 'abr');
    assert.deepEqual(report.options.players, players);
    assert.equal(report.ladder.length, 3);
    assert.ok(report.ladder.every((rung, i) => rung.bandwidth > 0 && (i === 0 || rung.bandwidth < report.ladder[i - 1].bandwidth)), 'three rungs, highest first');
    assert.deepEqual(report.players.map((p) => [p.player, p.manifest]), [['hls.js', 'LL-HLS'], ['shaka', 'LL-HLS'], ['dash.js', 'LL-DASH']]);
    for (const p of report.players) {
      assert.deepEqual(p.fatalErrors, [], `${p.player}: no fatal error`);
      assert.ok(p.rungs.length > 0 && report.ladder.some((rung) => rung.name === p.rungs[0].rung), `${p.player}: a rung of the ladder on screen`);
      assert.equal(p.switches, p.rungs.length - 1);
      assert.deepEqual(p.phases.map((phase) => phase.kbps), [8000, 1500, 8000]);
      assert.ok(p.rebufferS >= p.longestStallS && p.longestStallS >= 0);
      assert.deepEqual(Object.keys(p.meetsGoals), ['reachTop', 'noStallOnStepDown', 'latencyReturns']);
    }
    assert.match(result.stderr, /ABR: .* BANDWIDTH/);
    assert.equal((await readdir(outDir)).filter((name) => name.endsWith('-abr-quick.json')).length, 1, 'results written');
  });
});
