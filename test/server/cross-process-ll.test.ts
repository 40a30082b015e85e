// Across processes: this process records parts in PostgreSQL; a separate
// `abrcast serve` on the same database holds blocking playlist reloads and is
// woken by LISTEN/NOTIFY. The wake-up (commit of the part → the answer that
// lists it) is measured and reported; the ≤ 50 ms goal belongs to the bench.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { CliProcess, cliEnv, makeTempDir } from '../cli/cli-process.js';
import { checkLowLatencyPlaylist } from '../support/ll-playlist-check.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const PART_S = 1 / 3;
const ROUNDS = 40;
/** Time given to the request to reach the other server and be held before the part is recorded (setup only). */
const SETTLE_MS = 120;

describe('blocking reload served by another process', () => {
  let postgres: PostgresInstance;
  let registry: RunRegistry;
  let serve: CliProcess;
  let base: string;
  let temp: { path: string; remove(): Promise<void> };

  before(async () => {
    postgres = await startPostgres();
    registry = await openRegistry({ databaseUrl: postgres.url });
    temp = await makeTempDir('abrcast-ll-serve-');
    serve = new CliProcess(
      ['serve', '--port', '0', '--json', '--database-url', postgres.url, '--data-dir', join(temp.path, 'data')],
      cliEnv(temp.path),
    );
    const started = await serve.waitForJson<{ event: string; serverUrl?: string }>((event) => event.event === 'start', 60_000);
    base = String(started.serverUrl);
  });
  after(async () => {
    await serve?.stop();
    await registry?.close();
    await postgres?.stop();
    await temp?.remove();
  });

  test('each held request is answered once the part is committed here; wake-up reported', async (t) => {
    const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2, startedAt: new Date() });
    await registry.setPartTarget(run.id, PART_S);
    const record = (segmentIndex: number, partIndex: number) =>
      registry.recordPart(run.id, {
        rendition: '720p', segmentIndex, partIndex, cid: `bafk-${segmentIndex}-${partIndex}`, duration: PART_S,
        independent: partIndex === 0, bytes: 100,
      });
    await record(0, 0);
    const url = (msn: number, part: number) => `${base}/runs/${run.id}/quality/720p/playlist.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`;
    const latencies: number[] = [];
    let position = { msn: 0, part: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const next = position.part === 5 ? { msn: position.msn + 1, part: 0 } : { msn: position.msn, part: position.part + 1 };
      const answer = fetch(url(next.msn, next.part)).then(async (response) => ({ response, at: performance.now(), text: await response.text() }));
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      await record(next.msn, next.part);
      const committed = performance.now();
      const { response, at, text } = await answer;
      assert.equal(response.status, 200, text);
      // Held until the commit: the answer lists the part it waited for. (Its arrival here may be
      // handled a moment before the COMMIT's own acknowledgement on a loaded machine: both are
      // I/O of this process, so the order of the two timestamps is not the server's order.)
      assert.match(text, new RegExp(`URI="part/${next.msn}\\.${next.part}\\.ts"`));
      checkLowLatencyPlaylist(text);
      latencies.push(Math.max(0, at - committed));
      position = next;
    }
    latencies.sort((a, b) => a - b);
    const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))].toFixed(1);
    t.diagnostic(`cross-process wake-up, commit → answer (ms, ${ROUNDS} rounds): p50 ${q(0.5)}, p99 ${q(0.99)}, max ${q(1)}`);
    assert.ok(latencies.at(-1)! < 2000, `slowest wake-up ${latencies.at(-1)} ms`);
  });
});
