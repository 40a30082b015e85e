// journalLimitBytes through MultiResolutionHlsOutput: a store slower than the
// producer fills the journal to its limit, then write() waits for uploads
// (backpressure) instead of growing disk or memory; a store that frees no room
// within closeDeadlineMs makes write() reject with JournalFullError. No segment
// that was produced is dropped either way.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { JournalFullError, MultiResolutionHlsOutput, SegmentJournal } from '../../src/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { FrameGenerator } from '../support/frames.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

/** A real embedded store whose segment uploads take `delayMs` each. */
class SlowHeliaStore extends HeliaStore {
  constructor(dir: string, private readonly delayMs: number) {
    super({ dir });
  }

  override async add(bytes: Uint8Array): Promise<string> {
    await sleep(this.delayMs);
    return super.add(bytes);
  }
}

const LIMIT = 20_000;

function makeOutput(dir: string, store: HeliaStore, closeDeadlineMs: number) {
  return new MultiResolutionHlsOutput({
    sourceSize: [160, 90], fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
    store, journalDir: join(dir, 'journal'), journalLimitBytes: LIMIT, uploadConcurrency: 1, closeDeadlineMs,
  });
}

describe('journalLimitBytes', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-journal-limit-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a slow store holds write() back; the journal stays near its limit and every segment is uploaded', async () => {
    const store = new SlowHeliaStore(join(dir, 'slow'), 100);
    const output = makeOutput(dir, store, 30_000);
    let largestSegment = 0;
    let peakPending = 0;
    const produced = new Set<string>();
    output.on('segment', (segment) => {
      produced.add(`${segment.rendition}/${segment.index}`);
      largestSegment = Math.max(largestSegment, segment.bytes);
    });
    const frames = new FrameGenerator(160, 90);
    const started = performance.now();
    for (let i = 0; i < 300; i++) {
      await output.write(frames.frame(i));
      peakPending = Math.max(peakPending, output.uploads.pendingBytes);
    }
    const writing = performance.now() - started;
    const summary = await output.close();
    await store.close();
    // 60 segments at 100 ms each, one at a time: writing was held back by the uploads.
    assert.ok(writing > 3_000, `300 frames written in ${Math.round(writing)} ms`);
    // Over the limit by at most the segments one write can finish (one per rendition), plus one in flight.
    assert.ok(peakPending <= LIMIT + 3 * largestSegment, `peak ${peakPending} B waiting, limit ${LIMIT}`);
    const uploaded = Object.entries(summary.segmentCids).flatMap(([name, cids]) => Object.keys(cids).map((index) => `${name}/${index}`));
    assert.deepEqual(new Set(uploaded), produced);
  });

  test('a store that frees no room: write() rejects with JournalFullError, and the journal keeps every segment', async () => {
    const store = new SlowHeliaStore(join(dir, 'stuck'), 60_000);
    const output = makeOutput(dir, store, 400);
    const produced: string[] = [];
    output.on('segment', (segment) => produced.push(`${segment.rendition}/${segment.index}`));
    const frames = new FrameGenerator(160, 90);
    let error: unknown;
    // Bounded by frames, not time: on a loaded machine the journal's fsyncs may lag the writes.
    for (let i = 0; i < 3000 && error === undefined; i++) await output.write(frames.frame(i)).catch((e: unknown) => (error = e));
    assert.ok(error instanceof JournalFullError, String(error));
    assert.match(error.message, /over its limit of 20000 \(journalLimitBytes\), and no upload freed room in 400 ms/);
    const runId = output.runId!;
    await output.close().then(() => assert.fail('close() succeeded without uploads'), (closeError: Error) => {
      assert.match(closeError.message, new RegExp(`abrcast resume ${runId}`));
    });
    const journal = (await SegmentJournal.open(join(dir, 'journal'), runId))!;
    assert.deepEqual(new Set(journal.segments().map((s) => `${s.rendition}/${s.index}`)), new Set(produced));
    await journal.close();
    await store.close();
  });
});
