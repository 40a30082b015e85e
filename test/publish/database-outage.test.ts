// The database outage test: a real PostgreSQL is stopped for 5 s in the middle of
// a paced live run, then restarted. Registry writes wait and retry off the
// publish chain, so the stream keeps its cadence (segment events about one per
// segment duration throughout), and at the end the registry lists every segment,
// the newest playlists, and the run as ended.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { MultiResolutionHlsOutput, type HlsOutputSummary, type PublishedVersion } from '../../src/index.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { startPostgres, type PostgresInstance } from '../support/postgres.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

const FPS = 10;
const SECONDS = 11;
const OUTAGE_MS = 5_000;
/** Much less than the outage: a stream that waited for the database would show a gap of about 5 s. */
const MAX_GAP_MS = 2_500;

describe('PostgreSQL stopped for 5 s mid-run', () => {
  let dir: string;
  let pg: PostgresInstance;
  let registry: RunRegistry;
  let store: HeliaStore;
  let summary: HlsOutputSummary;
  let run: RunRecord;
  let recorded: SegmentRecord[];
  let retries = 0;
  let outageAt = 0;
  const versions: PublishedVersion[] = [];
  const segmentTimes = new Map<string, number[]>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-db-outage-'));
    pg = await startPostgres();
    registry = await openRegistry({ databaseUrl: pg.url, dataDir: join(dir, 'db') });
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: FPS, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
      store, registry, journalDir: join(dir, 'journal'), closeDeadlineMs: 30_000,
    });
    output.on('segment', (segment) => {
      const times = segmentTimes.get(segment.rendition) ?? [];
      segmentTimes.set(segment.rendition, times);
      times.push(performance.now());
    });
    output.on('publish', (version) => versions.push(version));
    output.on('retry', () => {
      retries += 1;
    });

    const frames = new FrameGenerator(160, 90);
    const started = performance.now();
    let outage: Promise<void> | undefined;
    for (let i = 0; i < SECONDS * FPS; i++) {
      const wait = started + (i * 1000) / FPS - performance.now();
      if (wait > 0) await sleep(wait);
      if (i === 3 * FPS) {
        outageAt = performance.now();
        outage = (async () => {
          await pg.stopServer();
          await sleep(OUTAGE_MS);
          await pg.startServer();
        })();
      }
      await output.write(frames.frame(i));
    }
    await outage;
    summary = await output.close();
    run = (await registry.getRun(output.runId!))!;
    recorded = await registry.listSegments(output.runId!);
  });

  after(async () => {
    await store?.close();
    await registry?.close();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the outage happened and registry writes were retried', () => {
    assert.ok(outageAt > 0);
    assert.ok(retries > 0, 'registry writes failed and were retried');
  });

  test('segment events kept their cadence through the outage', () => {
    for (const { name } of CHILD_RENDITIONS) {
      const times = segmentTimes.get(name)!;
      assert.ok(times.length >= SECONDS - 1, `${name}: ${times.length} segments`);
      const gaps = times.slice(1).map((time, i) => time - times[i]);
      const during = times.filter((time) => time > outageAt && time < outageAt + OUTAGE_MS).length;
      assert.ok(during >= 3, `${name}: ${during} segments finished while the database was down`);
      assert.ok(Math.max(...gaps) < MAX_GAP_MS, `${name}: largest gap ${Math.round(Math.max(...gaps))} ms`);
    }
  });

  test('at the end the registry lists every segment, the newest playlists, and the run as ended', () => {
    assert.equal(run.status, 'ended', run.error ?? '');
    for (const { name } of CHILD_RENDITIONS) {
      const uploaded = Object.entries(summary.segmentCids[name]).map(([index, cid]) => `${index}:${cid}`).sort();
      const listed = recorded.filter((s) => s.rendition === name).map((s) => `${s.index}:${s.cid}`).sort();
      assert.equal(uploaded.length, segmentTimes.get(name)!.length);
      assert.deepEqual(listed, uploaded);
    }
    const final = versions.at(-1)!;
    assert.equal(final.final, true);
    assert.equal(run.masterCid, final.masterCid);
    assert.equal(run.playlistSequence, final.sequence);
  });
});
