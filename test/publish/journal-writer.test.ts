// The publisher's journal writer alone, on a real directory: a segment is
// durable before it is handed on, marked once uploaded, the journal removed
// only when the run ends complete, and a segment the journal cannot take is
// still handed on from memory and reported.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import type { SegmentEvent } from '../../src/encoder/types.js';
import { JournalFullError, SegmentJournal } from '../../src/journal/segment-journal.js';
import { JournalWriter, type JournalWriterOptions, type SegmentUpload } from '../../src/publish/journal-writer.js';

const RENDITIONS = [{ name: '360p', width: 640, height: 360, bitrate: 800_000 }];

function segment(index: number, bytes: number, path?: string): SegmentEvent {
  const data = Buffer.alloc(bytes, index + 1);
  return {
    rendition: '360p', index, container: 'ts', startPts: index, ptsOffset: 1.4, duration: 1, bytes, data, codecs: 'avc1.64001e', iframes: [{ offset: 0, length: bytes, pts: index }],
    ...(path !== undefined ? { path } : {}),
  };
}

const read = (upload: SegmentUpload) => (upload.bytes instanceof Uint8Array ? Promise.resolve(upload.bytes) : upload.bytes.read());

describe('JournalWriter', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-journal-writer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function writer(runId: string, options: Partial<JournalWriterOptions> = {}) {
    const failures: string[] = [];
    const warnings: string[] = [];
    const journal = new JournalWriter({
      dir, limitBytes: Number.POSITIVE_INFINITY, roomWaitMs: 1_000,
      onFailure: (message) => failures.push(message), onWarning: (message) => warnings.push(message), ...options,
    });
    const run = { runId, startedAt: new Date(0).toISOString(), width: 640, height: 360, fps: 30, segmentDuration: 1, renditions: RENDITIONS };
    return { journal, failures, warnings, run };
  }

  test('a segment is on disk before append resolves, read back for upload, marked once uploaded; a complete run removes the journal', async () => {
    const { journal, failures, run } = writer('complete');
    await journal.create(run);
    assert.equal(journal.dir, join(dir, 'complete'));
    const upload = await journal.append(segment(0, 1000));
    // Another reader of the directory (as `abrcast resume` would be) sees it already.
    const reopened = (await SegmentJournal.open(dir, 'complete'))!;
    assert.deepEqual(reopened.segments().map(({ rendition, index, bytes, cid }) => ({ rendition, index, bytes, cid })), [
      { rendition: '360p', index: 0, bytes: 1000, cid: undefined },
    ]);
    await reopened.close();
    assert.deepEqual(await read(upload), segment(0, 1000).data);
    assert.equal(upload.meta.kept, false);

    await journal.markUploaded(upload.meta, 'bafytest0');
    assert.equal(existsSync(upload.meta.path), false, 'the uploaded copy is freed');
    const log = await readFile(join(journal.dir!, 'log.jsonl'), 'utf8');
    assert.match(log, /"uploaded":\{"rendition":"360p","index":0,"cid":"bafytest0"\}/);

    await journal.end(true);
    assert.equal(existsSync(join(dir, 'complete')), false);
    assert.deepEqual(failures, []);
  });

  test('an incomplete run keeps its journal for resume', async () => {
    const { journal, run } = writer('incomplete');
    await journal.create(run);
    await journal.append(segment(0, 10));
    await journal.end(false);
    const kept = (await SegmentJournal.open(dir, 'incomplete'))!;
    assert.deepEqual(kept.segments().map((s) => s.index), [0]);
    await kept.close();
  });

  test('a segment the journal cannot take is handed on from memory and reported as a failure', async () => {
    const { journal, failures, run } = writer('unjournaled');
    await journal.create(run);
    // The encoder says it wrote the file to outputDir, but it is not there: nothing durable to point at.
    const missingFile = segment(3, 64, join(dir, 'no-such-dir', '3.ts'));
    const upload = await journal.append(missingFile);
    assert.deepEqual(await read(upload), missingFile.data);
    assert.equal(upload.meta.path, '');
    assert.equal(failures.length, 1);
    assert.match(failures[0], /^Cannot journal segment 360p\/3: .*ENOENT/);
    // Nothing journaled: marking it is a no-op, not a warning.
    await journal.markUploaded(upload.meta, 'bafytest3');

    const before = writer('never-created');
    const early = await before.journal.append(segment(0, 8));
    assert.deepEqual(await read(early), segment(0, 8).data);
    assert.match(before.failures[0], /^Cannot journal segment 360p\/0: The run journal is not created yet/);
    await journal.end(false);
  });

  test('over its limit the journal is full; waitForRoom waits for an upload, or rejects with JournalFullError', async () => {
    const { journal, run } = writer('limited', { limitBytes: 1500, roomWaitMs: 50 });
    await journal.create(run);
    const first = await journal.append(segment(0, 1000));
    assert.equal(journal.full, false);
    await journal.append(segment(1, 1000));
    assert.equal(journal.full, true);
    await assert.rejects(journal.waitForRoom(), JournalFullError);

    const room = journal.waitForRoom();
    await journal.markUploaded(first.meta, 'bafytest0');
    await room;
    assert.equal(journal.full, false);
    await journal.end(false);
  });
});
