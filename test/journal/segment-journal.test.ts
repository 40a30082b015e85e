// The run journal on a real file system: what it makes durable and in which order
// (observed through the real FileHandle calls, which still run), the limit on
// bytes waiting for upload, reading back after a crash, and removal.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readlinkSync } from 'node:fs';
import { appendFile, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { JournalFullError, SegmentJournal, type JournalRun } from '../../src/journal/segment-journal.js';

const RUN: JournalRun = {
  runId: 'rjournaltest1', startedAt: '2026-01-02T03:04:05.678Z', width: 320, height: 180, fps: 30, segmentDuration: 1,
  renditions: [{ name: '180p', width: 320, height: 180, bitrate: 300 }, { name: '90p', width: 160, height: 90, bitrate: 100 }],
  segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
};

const segment = (rendition: string, index: number, size = 1000) => ({
  rendition, index, duration: 1 + index / 100, codecs: 'avc1.42c00d', data: randomBytes(size),
});

describe('SegmentJournal', () => {
  let parent: string;

  before(async () => {
    parent = await mkdtemp(join(tmpdir(), 'abrcast-journal-'));
  });

  after(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  test('a segment is fsync\'d, then named, then logged and the log fsync\'d, all before append() resolves', async () => {
    const events: string[] = [];
    const probe = await open(join(parent, 'probe'), 'w');
    const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void>; write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const pathOf = (handle: { fd: number }) => readlinkSync(`/proc/self/fd/${handle.fd}`);
    const realSync = handleProto.sync;
    const realWrite = handleProto.write;
    mock.method(handleProto, 'sync', async function (this: { fd: number }) {
      const path = pathOf(this);
      await realSync.call(this);
      events.push(`sync ${path}`);
    });
    mock.method(handleProto, 'write', async function (this: { fd: number }, ...args: unknown[]) {
      const path = pathOf(this);
      const result = await realWrite.apply(this, args);
      events.push(`write ${path} ${String(args[0]).trim()}`);
      return result;
    });
    let journal: SegmentJournal;
    try {
      journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rorder' });
      const dir = journal.dir;
      await Promise.all([
        journal.append(segment('180p', 0)).then(() => events.push('resolved 180p/0')),
        journal.append(segment('90p', 0)).then(() => events.push('resolved 90p/0')),
      ]);
      for (const name of ['180p', '90p']) {
        const at = (prefix: string) => {
          const position = events.findIndex((event) => event.startsWith(prefix));
          assert.ok(position >= 0, `no "${prefix}" in\n${events.join('\n')}`);
          return position;
        };
        const bytesSynced = at(`sync ${join(dir, name, '0.ts.partial')}`);
        const dirSynced = events.findIndex((event, i) => i > bytesSynced && event === `sync ${join(dir, name)}`);
        const logged = at(`write ${join(dir, 'log.jsonl')} {"segment":{"rendition":"${name}"`);
        const logSynced = events.findIndex((event, i) => i > logged && event === `sync ${join(dir, 'log.jsonl')}`);
        const resolved = at(`resolved ${name}/0`);
        assert.ok(bytesSynced < dirSynced && dirSynced < logged && logged < logSynced && logSynced < resolved, events.join('\n'));
      }
      // run.json was durable before any segment.
      assert.ok(events.indexOf(`sync ${join(dir, 'run.json.partial')}`) < events.findIndex((e) => e.includes('0.ts.partial')));
    } finally {
      mock.restoreAll();
    }
    await journal!.close();
  });

  test('reopened after a crash, it lists every logged segment with its bytes and upload state; a torn line is ignored', async () => {
    const journal = await SegmentJournal.create(parent, RUN);
    const written = [segment('180p', 0), segment('90p', 0), segment('180p', 1), segment('90p', 1)];
    for (const item of written) await journal.append(item);
    const [first] = journal.segments();
    await journal.markUploaded(first, 'bafkreifirst');
    assert.equal(existsSync(first.path), false, 'an uploaded segment\'s bytes are freed');
    // A process killed mid-append leaves half a line.
    await appendFile(join(journal.dir, 'log.jsonl'), '{"segment":{"rendition":"180p","ind');
    // No close(): the process died.

    const reopened = (await SegmentJournal.open(parent, RUN.runId))!;
    assert.deepEqual(reopened.run, RUN);
    const listed = reopened.segments();
    assert.deepEqual(listed.map((s) => `${s.rendition}/${s.index}`), ['180p/0', '180p/1', '90p/0', '90p/1']);
    assert.equal(listed[0].cid, 'bafkreifirst');
    for (const entry of listed.slice(1)) {
      const input = written.find((w) => w.rendition === entry.rendition && w.index === entry.index)!;
      assert.equal(entry.cid, undefined);
      assert.equal(entry.duration, input.duration);
      assert.equal(entry.codecs, input.codecs);
      assert.deepEqual(await reopened.read(entry), input.data);
    }
    // Lines appended after the torn one still count.
    await reopened.markUploaded(listed[1], 'bafkreisecond');
    const again = (await SegmentJournal.open(parent, RUN.runId))!;
    assert.equal(again.segments()[1].cid, 'bafkreisecond');
    await again.close();
    await reopened.close();
    assert.equal(await SegmentJournal.open(parent, 'rnosuchrun'), undefined);
  });

  test('a segment the encoder already wrote (outputDir) is used in place and kept after upload', async () => {
    const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'routputdir' });
    const outside = join(parent, 'out-segment_00000.ts');
    const item = segment('180p', 0);
    await writeFile(outside, item.data);
    const entry = await journal.append({ ...item, path: outside });
    assert.equal(entry.path, outside);
    assert.deepEqual(await readdir(journal.dir), ['log.jsonl', 'run.json']);
    await journal.markUploaded(entry, 'bafkreikept');
    await journal.remove();
    assert.equal(existsSync(journal.dir), false);
    assert.deepEqual(await readFile(outside), item.data);
  });

  test('over its limit, waitForRoom() waits for uploads, then fails with a named error; nothing is dropped', async () => {
    const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rlimit' }, 2500);
    const entries = [];
    for (let index = 0; index < 3; index += 1) entries.push(await journal.append(segment('180p', index, 1000)));
    assert.equal(journal.pendingBytes, 3000);
    // Over the limit: the third segment was still taken (never dropped), but the producer must wait.
    let roomAt = 0;
    const waiting = journal.waitForRoom(10_000).then(() => (roomAt = Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(roomAt, 0);
    const freed = Date.now();
    await journal.markUploaded(entries[0], 'bafkreione');
    await waiting;
    assert.ok(roomAt >= freed);

    await journal.append(segment('180p', 3, 1000));
    const started = Date.now();
    await assert.rejects(journal.waitForRoom(200), (error: unknown) => {
      assert.ok(error instanceof JournalFullError);
      assert.match(error.message, /holds 3000 bytes of segments not yet uploaded, over its limit of 2500 \(journalLimitBytes\)/);
      assert.match(error.message, /no upload freed room in 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started >= 190);
    // Nothing is dropped: 1..3 wait for upload, 0 is in the log as uploaded (memory holds only what waits).
    assert.deepEqual(journal.segments().map((s) => s.index), [1, 2, 3]);
    await journal.close();
    const reopened = (await SegmentJournal.open(parent, 'rlimit'))!;
    assert.deepEqual(reopened.segments().map((s) => `${s.index}${s.cid ? ' uploaded' : ''}`), ['0 uploaded', '1', '2', '3']);
    await reopened.close();
  });

  test('remove() deletes the journal: the run is final and uploaded', async () => {
    const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rremove' });
    const entry = await journal.append(segment('90p', 0));
    await journal.markUploaded(entry, 'bafkreiremoved');
    await journal.remove();
    assert.equal(existsSync(journal.dir), false);
    assert.equal(await SegmentJournal.open(parent, 'rremove'), undefined);
  });

  test('a duplicate segment and a bad limit are refused', async () => {
    await assert.rejects(SegmentJournal.create(parent, { ...RUN, runId: 'rbad' }, 0), /positive number of bytes for journalLimitBytes/);
    const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rdup' });
    await journal.append(segment('90p', 0));
    await assert.rejects(journal.append(segment('90p', 0)), /Segment 90p\/0 is already in journal/);
    await journal.close();
  });

  /** The FileHandle prototype, whose methods every handle the journal opens uses. */
  async function handlePrototype(): Promise<{ sync: () => Promise<void>; write: (...args: unknown[]) => Promise<{ bytesWritten: number }> }> {
    const probe = await open(join(parent, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe);
    await probe.close();
    return proto;
  }

  test('the journal directory is fsync\'d after its log file is created in it', async () => {
    const proto = await handlePrototype();
    const realSync = proto.sync;
    const dir = join(parent, 'rdirsync');
    const dirSyncsWithLog: boolean[] = [];
    mock.method(proto, 'sync', async function (this: { fd: number }) {
      const path = readlinkSync(`/proc/self/fd/${this.fd}`);
      await realSync.call(this);
      if (path === dir) dirSyncsWithLog.push(existsSync(join(dir, 'log.jsonl')));
    });
    let journal: SegmentJournal;
    try {
      journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rdirsync' });
    } finally {
      mock.restoreAll();
    }
    assert.ok(dirSyncsWithLog.includes(true), `the directory was synced only before log.jsonl existed: ${JSON.stringify(dirSyncsWithLog)}`);
    await journal!.close();
  });

  test('short writes to the log are completed: every line is whole after a reopen', async () => {
    const proto = await handlePrototype();
    const realWrite = proto.write;
    // The kernel may write fewer bytes than asked (a filling disk, a size limit); here, at most 7 per call.
    mock.method(proto, 'write', async function (this: unknown, data: unknown, ...rest: unknown[]) {
      if (typeof data === 'string') {
        const { bytesWritten } = await realWrite.call(this, data.slice(0, 7));
        return { bytesWritten, buffer: data };
      }
      const [offset = 0, length = (data as Buffer).byteLength - (offset as number)] = rest as number[];
      return realWrite.call(this, data, offset, Math.min(7, length));
    });
    const written = [segment('180p', 0), segment('90p', 0), segment('180p', 1)];
    try {
      const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rshort' });
      for (const item of written) await journal.append(item);
      await journal.markUploaded(journal.segments()[0], 'bafkreishort');
      await journal.close();
    } finally {
      mock.restoreAll();
    }
    const reopened = (await SegmentJournal.open(parent, 'rshort'))!;
    assert.deepEqual(reopened.segments().map((s) => `${s.rendition}/${s.index}/${s.cid ?? '-'}`), ['180p/0/bafkreishort', '180p/1/-', '90p/0/-']);
    await reopened.close();
  });

  test('a log write that fails part way is an error, and the next line starts on a line of its own', async () => {
    const proto = await handlePrototype();
    const realWrite = proto.write;
    let failNext = false;
    mock.method(proto, 'write', async function (this: unknown, data: unknown, ...rest: unknown[]) {
      if (failNext && Buffer.isBuffer(data)) {
        failNext = false;
        // Half the line reaches the file, then the disk is full.
        await realWrite.call(this, data, 0, Math.floor(data.byteLength / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return realWrite.call(this, data, ...rest);
    });
    try {
      const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rtorn' });
      await journal.append(segment('180p', 0));
      failNext = true;
      await assert.rejects(journal.append(segment('180p', 1)), /ENOSPC/);
      await journal.append(segment('180p', 2));
      await journal.close();
    } finally {
      mock.restoreAll();
    }
    const reopened = (await SegmentJournal.open(parent, 'rtorn'))!;
    assert.deepEqual(reopened.segments().map((s) => s.index), [0, 2], 'the segment after the torn line is not lost');
    await reopened.close();
  });

  test('segments the disk refused are held in memory up to a bound, then the producer waits (backpressure)', async () => {
    const journal = await SegmentJournal.create(parent, { ...RUN, runId: 'rmemory' });
    journal.memoryLimitBytes = 2500;
    const items = [segment('180p', 0), segment('180p', 1), segment('180p', 2)];
    const entries = items.map((item) => journal.keepInMemory(item));
    assert.equal(journal.memoryBytes, 3000);
    assert.deepEqual(await journal.read(entries[1]), items[1].data);
    let roomAt = 0;
    const waiting = journal.waitForRoom(10_000).then(() => (roomAt = Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(roomAt, 0, 'over the memory bound the producer waits');
    await journal.markUploaded(entries[0], 'bafkreimemory');
    await waiting;
    assert.equal(journal.memoryBytes, 2000);
    assert.equal(journal.pendingBytes, 2000);
    journal.keepInMemory(segment('180p', 3));
    await assert.rejects(journal.waitForRoom(100), (error: unknown) => {
      assert.ok(error instanceof JournalFullError);
      assert.match(error.message, /holds 3000 bytes of segments in memory that its disk refused, over its memory limit of 2500/);
      return true;
    });
    assert.throws(() => journal.keepInMemory(segment('180p', 3)), /already in journal/);
    await journal.close();
  });
});
