// Partial segments (LL-HLS) in the registry, on PGlite and a real PostgreSQL 15:
// recording (idempotent), the live-edge reads, pruning, init segments, and the
// change feed that wakes blocking requests, across connections on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  migrate,
  openPgliteClient,
  openPostgresClient,
  PART_RETENTION_S,
  RunRegistry,
  type RunChange,
} from '../../src/registry/index.js';
import type { PartInput } from '../../src/model/run-inputs.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';

const part = (rendition: string, segmentIndex: number, partIndex: number, extra: Partial<PartInput> = {}): PartInput => ({
  rendition,
  segmentIndex,
  partIndex,
  cid: `cid-${rendition}-${segmentIndex}.${partIndex}`,
  duration: 1 / 3,
  independent: partIndex === 0,
  bytes: 1000 + partIndex,
  ...extra,
});

/** Resolves with the first change `registry` reports for `runId` that `accept` takes. */
function nextChange(registry: RunRegistry, runId: string, accept: (change: RunChange) => boolean = () => true): Promise<RunChange> {
  return new Promise((resolve) => {
    const stop = registry.onChange(runId, (change) => {
      if (!accept(change)) return;
      stop();
      resolve(change);
    });
  });
}

function partsSuite(name: string, open: () => Promise<{ registry: RunRegistry; teardown(): Promise<void> }>): void {
  describe(name, () => {
    let registry: RunRegistry;
    let teardown: () => Promise<void>;
    before(async () => ({ registry, teardown } = await open()));
    after(async () => {
      await registry?.close();
      await teardown?.();
    });

    test('recordPart stores parts in order; again with the same CID is a no-op, another CID conflicts', async () => {
      const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
      for (const p of [part('720p', 0, 1), part('720p', 0, 0), part('360p', 0, 0), part('720p', 1, 0)]) await registry.recordPart(run.id, p);
      await registry.recordPart(run.id, part('720p', 0, 1));
      await assert.rejects(registry.recordPart(run.id, part('720p', 0, 1, { cid: 'other' })), {
        name: 'PartConflictError',
        message: /already has 720p part 0\.1 with CID cid-720p-0\.1, not other/,
      });
      const parts = await registry.listRecentParts(run.id, '720p', 0);
      assert.deepEqual(parts.map((p) => `${p.segmentIndex}.${p.partIndex}`), ['0.0', '0.1', '1.0']);
      assert.deepEqual(parts[0], { runId: run.id, ...part('720p', 0, 0) });
      assert.deepEqual((await registry.listRecentParts(run.id, '720p', 1)).map((p) => p.cid), ['cid-720p-1.0']);
      assert.deepEqual(await registry.latestParts(run.id), {
        '720p': { segmentIndex: 1, partIndex: 0 },
        '360p': { segmentIndex: 0, partIndex: 0 },
      });
      assert.equal((await registry.getPart(run.id, '720p', 0, 1))?.cid, 'cid-720p-0.1');
      assert.equal(await registry.getPart(run.id, '720p', 0, 2), undefined);
      await assert.rejects(registry.recordPart('no-such-run', part('720p', 0, 0)), { name: 'RunNotFoundError' });
      await assert.rejects(registry.recordPart(run.id, part('720p', 0, 2, { duration: 0 })), /duration/);
    });

    test('parts older than the retention window are pruned once their segment is stored, never before', async () => {
      const segmentDuration = 2;
      const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration });
      const retained = Math.ceil(PART_RETENTION_S / segmentDuration);
      const last = retained + 5;
      // Segments 0..2 are stored (the contiguous prefix); 3 onwards only have parts, as when the segment lane lags.
      for (let index = 0; index < 3; index++) {
        await registry.recordSegment(run.id, { rendition: '720p', index, cid: `seg-${index}`, duration: segmentDuration, bytes: 1 });
      }
      for (let segment = 0; segment <= last; segment++) {
        for (let index = 0; index < 2; index++) await registry.recordPart(run.id, part('720p', segment, index));
      }
      const kept = await registry.listRecentParts(run.id, '720p', 0);
      assert.equal(kept[0].segmentIndex, 3, 'the stored segments past the window lost their parts; the others kept theirs');
      assert.equal(kept.length, (last - 2) * 2);
      // Once the lane catches up, the next segment's first part prunes what is stored and old.
      for (let index = 3; index <= last; index++) {
        await registry.recordSegment(run.id, { rendition: '720p', index, cid: `seg-${index}`, duration: segmentDuration, bytes: 1 });
      }
      await registry.recordPart(run.id, part('720p', last + 1, 0));
      const pruned = await registry.listRecentParts(run.id, '720p', 0);
      assert.equal(pruned[0].segmentIndex, last + 1 - retained, 'parts older than the retention window are gone');
    });

    test('init segments and the part target are set once', async () => {
      const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
      assert.equal(run.partTarget, null);
      await registry.setInitSegment(run.id, '720p', 'init-720');
      await registry.setInitSegment(run.id, '720p', 'init-720');
      await assert.rejects(registry.setInitSegment(run.id, '720p', 'init-other'), { name: 'PartConflictError' });
      assert.deepEqual(await registry.getInitSegments(run.id), { '720p': 'init-720' });
      await registry.setPartTarget(run.id, 1 / 3);
      await registry.setPartTarget(run.id, 0.5);
      assert.equal((await registry.getRun(run.id))?.partTarget, 1 / 3);
    });

    test('onChange reports each new part of its run (not of others), and not a repeated one', async () => {
      const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
      const other = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
      const seen: RunChange[] = [];
      // On PostgreSQL the first onChange opens the LISTEN connection, which reports itself once in force.
      const listening = registry.dialect === 'postgres' ? nextChange(registry, run.id, (c) => c.kind === 'resync') : undefined;
      const stop = registry.onChange(run.id, (change) => {
        if (change.kind === 'part') seen.push(change);
      });
      await listening;
      const second = nextChange(registry, run.id, (c) => c.kind === 'part' && c.partIndex === 1);
      await registry.recordPart(other.id, part('720p', 0, 0));
      await registry.recordPart(run.id, part('720p', 0, 0));
      await registry.recordPart(run.id, part('720p', 0, 0));
      await registry.recordPart(run.id, part('720p', 0, 1));
      assert.deepEqual(await second, { kind: 'part', runId: run.id, rendition: '720p', segmentIndex: 0, partIndex: 1 });
      stop();
      // Delivery is asynchronous on PostgreSQL: a change for 0.2 would come with or before the one for 1.0.
      const later = nextChange(registry, run.id, (c) => c.kind === 'part' && c.segmentIndex === 1);
      await registry.recordPart(run.id, part('720p', 0, 2));
      await registry.recordPart(run.id, part('720p', 1, 0));
      await later;
      assert.deepEqual(seen.map((c) => (c.kind === 'part' ? `${c.segmentIndex}.${c.partIndex}` : c.kind)), ['0.0', '0.1']);
    });

    test('onChange also reports init segments (with their CID), publishes and status changes', async () => {
      const run = await registry.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
      const seen: RunChange[] = [];
      const stop = registry.onChange(run.id, (change) => {
        if (change.kind !== 'resync') seen.push(change);
      });
      // On PostgreSQL the LISTEN connection may still be connecting: announce (idempotently) until one arrives.
      while (!seen.some((change) => change.kind === 'run')) {
        await registry.setPartTarget(run.id, 1 / 3);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen.length = 0;
      await registry.setInitSegment(run.id, '720p', 'init-720');
      await registry.publishPlaylists(run.id, 'master', {});
      await registry.markEnded(run.id);
      for (let wait = 0; seen.length < 3 && wait < 100; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
      stop();
      assert.deepEqual(seen, [
        { kind: 'init', runId: run.id, rendition: '720p', cid: 'init-720' },
        { kind: 'run', runId: run.id },
        { kind: 'run', runId: run.id },
      ]);
    });
  });
}

partsSuite('parts on PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-parts-'));
  const client = await openPgliteClient(join(dir, 'db'));
  await migrate(client);
  return { registry: new RunRegistry(client), teardown: async () => rmSync(dir, { recursive: true, force: true }) };
});

let postgres: PostgresInstance | undefined;
partsSuite('parts on PostgreSQL 15', async () => {
  postgres = await startPostgres();
  const client = await openPostgresClient(postgres.url);
  await migrate(client);
  return { registry: new RunRegistry(client), teardown: async () => {} };
});

describe('PostgreSQL change feed across connections', () => {
  let server: PostgresInstance;
  let writer: RunRegistry;
  let reader: RunRegistry;
  before(async () => {
    server = await startPostgres();
    const url = await server.createDatabase('feed');
    const a = await openPostgresClient(url);
    await migrate(a);
    writer = new RunRegistry(a);
    reader = new RunRegistry(await openPostgresClient(url));
  });
  after(async () => {
    await writer?.close();
    await reader?.close();
    await server?.stop();
    await postgres?.stop();
  });

  test('a part recorded on one connection wakes a listener on another (latency reported)', async (t) => {
    const run = await writer.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
    // The first onChange opens the LISTEN connection; it reports itself with a change without rendition.
    const connected = nextChange(reader, run.id);
    assert.deepEqual(await connected, { kind: 'resync', runId: run.id });
    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const woke = nextChange(reader, run.id, (c) => c.kind === 'part' && c.partIndex === i);
      const started = performance.now();
      await writer.recordPart(run.id, part('720p', 0, i, { independent: i === 0 }));
      // Measured from the start of the write: it includes the COMMIT the NOTIFY waits for.
      await woke;
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
    t.diagnostic(`NOTIFY wake-up after recordPart (ms, write included): p50 ${p(0.5)}, p99 ${p(0.99)}, max ${p(1)}`);
    // A generous bound: the goal (≤ 50 ms) belongs to the bench on a quiet machine.
    assert.ok(latencies.at(-1)! < 2000, `slowest wake-up ${latencies.at(-1)} ms`);
  });

  test('after its connection is killed the feed reconnects, says so, and delivers again', async () => {
    const run = await writer.createRun({ width: 640, height: 360, fps: 30, segmentDuration: 2 });
    const stop = reader.onChange(run.id, () => {});
    const resync = nextChange(reader, run.id, (c) => c.kind === 'resync');
    const { rows } = await killListeners(server.url.replace(/\/abrcast$/, '/feed'));
    assert.ok(rows >= 1, 'a LISTEN connection was terminated');
    assert.deepEqual(await resync, { kind: 'resync', runId: run.id });
    const woke = nextChange(reader, run.id, (c) => c.kind === 'part' && c.rendition === '360p');
    await writer.recordPart(run.id, part('360p', 0, 0));
    assert.deepEqual(await woke, { kind: 'part', runId: run.id, rendition: '360p', segmentIndex: 0, partIndex: 0 });
    stop();
  });
});

async function killListeners(url: string): Promise<{ rows: number }> {
  const client = await openPostgresClient(url);
  try {
    const { rows } = await client.query<{ killed: boolean }>(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    return { rows: rows.filter((r) => r.killed).length };
  } finally {
    await client.close();
  }
}
