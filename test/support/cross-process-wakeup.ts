// The cross-process wake-up of LL-HLS: this process records parts in PostgreSQL as
// the publisher does (recordPart, NOTIFY at commit); a separate `abrcast serve`
// on the same database holds a blocking playlist reload for each next part and is
// woken by LISTEN/NOTIFY. Measured: the recordPart call (INSERT, COMMIT, NOTIFY) → the
// answer that lists the part.
// Used by test/server/cross-process-ll.test.ts and `npm run bench -- --case latency`.
import { join } from 'node:path';

import { openRegistry } from '../../src/registry/open-registry.js';
import { CliProcess, cliEnv, makeTempDir } from '../cli/cli-process.js';
import { percentile } from './hls-latency-probe.js';

const PART_S = 1 / 3;
const PARTS_PER_SEGMENT = 6;
/** Time given to the request to reach the other server and be held before the part is recorded (setup only). */
const SETTLE_MS = 120;

export interface WakeupReport {
  rounds: number;
  /** recordPart call of each part → the held request's answer, ms, in round order. */
  latenciesMs: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface WakeupOptions {
  /** PostgreSQL both processes use. */
  databaseUrl: string;
  rounds?: number;
  /** Called with each answer (already checked: 200, after the commit, listing the part). */
  onAnswer?: (text: string, part: { msn: number; part: number }) => void;
}

/** Runs the rounds against a fresh `abrcast serve`; throws when a held request is not answered 200 with its part. */
export async function measureCrossProcessWakeup(options: WakeupOptions): Promise<WakeupReport> {
  const rounds = options.rounds ?? 40;
  const registry = await openRegistry({ databaseUrl: options.databaseUrl });
  const temp = await makeTempDir('abrcast-ll-serve-');
  const serve = new CliProcess(
    ['serve', '--port', '0', '--json', '--database-url', options.databaseUrl, '--data-dir', join(temp.path, 'data')],
    cliEnv(temp.path),
  );
  try {
    const started = await serve.waitForJson<{ event: string; serverUrl?: string }>((event) => event.event === 'start', 60_000);
    const base = String(started.serverUrl);
    const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2, startedAt: new Date() });
    await registry.setPartTarget(run.id, PART_S);
    const record = (segmentIndex: number, partIndex: number) =>
      registry.recordPart(run.id, {
        rendition: '720p', segmentIndex, partIndex, cid: `bafk-${segmentIndex}-${partIndex}`, duration: PART_S,
        independent: partIndex === 0, bytes: 100,
      });
    await record(0, 0);
    const url = (msn: number, part: number) => `${base}/runs/${run.id}/quality/720p/playlist.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`;
    const latenciesMs: number[] = [];
    let position = { msn: 0, part: 0 };
    for (let round = 0; round < rounds; round++) {
      const next = position.part === PARTS_PER_SEGMENT - 1 ? { msn: position.msn + 1, part: 0 } : { msn: position.msn, part: position.part + 1 };
      const answer = fetch(url(next.msn, next.part)).then(async (response) => ({ response, at: performance.now(), text: await response.text() }));
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      // From the call (INSERT, COMMIT with its NOTIFY): the other process may answer before this
      // one has the COMMIT's reply, so the call's start is the clock's zero.
      const recording = performance.now();
      await record(next.msn, next.part);
      const { response, at, text } = await answer;
      const listed = new RegExp(`URI="part/${next.msn}\\.${next.part}\\.ts"`).test(text);
      if (response.status !== 200 || at < recording || !listed) {
        throw new Error(
          `held request for part ${next.msn}.${next.part}: ${response.status}, ${at < recording ? 'answered before the part was recorded' : `${(at - recording).toFixed(1)} ms after recordPart`}` +
            `, ${listed ? 'lists' : 'does not list'} the part:\n${text}`,
        );
      }
      options.onAnswer?.(text, next);
      latenciesMs.push(Number((at - recording).toFixed(2)));
      position = next;
    }
    return {
      rounds,
      latenciesMs,
      p50Ms: percentile(latenciesMs, 50)!,
      p99Ms: percentile(latenciesMs, 99)!,
      maxMs: Math.max(...latenciesMs),
    };
  } finally {
    await serve.stop();
    await registry.close();
    await temp.remove();
  }
}
