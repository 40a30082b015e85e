// The steps the Chromium channel tests share (clear and private): a page watches a channel
// while its producer is SIGKILLed and started again; these wait for the new run and for the
// page to play into it, and check what it played.
import assert from 'node:assert/strict';

import type { RunRecord } from '../../src/registry/run-records.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import type { HlsProbe, HlsProbeState } from './hls-latency-probe.js';
import { waitFor } from './live-run.js';

/** The run once its `rendition` lists `segments` segments without a hole. */
export function runPublishing(registry: RunRegistry, runId: string, rendition = 'original', segments = 3): Promise<RunRecord> {
  return waitFor('the new run publishing', async () => {
    const run = await registry.getRun(runId);
    return run && (run.segmentCounts[rendition]?.contiguous ?? 0) >= segments ? run : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

/**
 * The page's state once it played into the new run (a segment two past its first, 4 s more than at the kill)
 * or gave up; on a timeout the error carries what it played and `playlistUrl`'s answer.
 */
export async function playedIntoNewRun(probe: HlsProbe, newRun: RunRecord, playedAtKill: number, playlistUrl: string): Promise<HlsProbeState> {
  let state = await probe.read();
  await waitFor('playback into the new run', async () => {
    state = await probe.read();
    if (state.fatalErrors.length > 0) return true;
    return state.fragments.some((fragment) => fragment.sn >= newRun.msnBase + 2) && state.playedS > playedAtKill + 4 ? true : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 }).catch(async (error: Error) => {
    const text = await (await fetch(playlistUrl)).text();
    error.message += `; played ${state.playedS} s (${playedAtKill} at the kill), fragments ${playedFragments(state)}, ` +
      `errors ${JSON.stringify(state.errors)}, new run from MSN ${newRun.msnBase}; the channel's playlist:\n${text}`;
    throw error;
  });
  return state;
}

/** "sn/cc" of each segment the page loaded, in order. */
export const playedFragments = (state: HlsProbeState): string => state.fragments.map((f) => `${f.sn}/${f.cc}`).join(' ');

/** No fatal error; both runs played (discontinuity sequences 0 and 1); every segment in order, at most one skipped. */
export function assertPlayedAcross(state: HlsProbeState): void {
  assert.deepEqual(state.fatalErrors, [], 'no fatal hls.js error');
  const ccs = new Set(state.fragments.map((fragment) => fragment.cc));
  assert.ok(ccs.has(0) && ccs.has(1), `played both runs: ${[...ccs].join(', ')}`);
  const sns = [...new Set(state.fragments.map((fragment) => fragment.sn))].sort((a, b) => a - b);
  for (let i = 1; i < sns.length; i++) assert.ok(sns[i]! - sns[i - 1]! <= 2, `a gap in the segments played: ${sns[i - 1]} then ${sns[i]}`);
}

/** The dead run once the channel moved on and it was completed from its journal: ended, not failed. */
export async function deadRunEnded(registry: RunRegistry, runId: string): Promise<RunRecord> {
  const run = await waitFor('the first run ended', async () => {
    const record = (await registry.getRun(runId))!;
    return record.status !== 'live' ? record : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  assert.equal(run.status, 'ended', run.error ?? '');
  return run;
}
