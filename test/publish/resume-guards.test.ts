// `abrcast resume` never races the run's producer or another resume, and one
// unreadable journal file does not cost the rest of the run. Real PGlite, the
// embedded store, real journals and lock files; "alive" is a heartbeat the
// registry stamped or a lock file naming a live process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { JournalLock, JournalLockedError } from '../../src/journal/journal-lock.js';
import { SegmentJournal, type JournalRun } from '../../src/journal/segment-journal.js';
import { resumeRun, RunAliveError, RunLockedError } from '../../src/publish/resume-run.js';
import { migrate, openPgliteClient, RunRegistry, type SqlClient } from '../../src/registry/index.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

describe('resume guards and faults', () => {
  let dir: string;
  let client: SqlClient;
  let registry: RunRegistry;
  let store: HeliaStore;
  const journalDir = () => join(dir, 'journal');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-resume-guards-'));
    client = await openPgliteClient(join(dir, 'db'));
    await migrate(client);
    registry = new RunRegistry(client);
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });

  after(async () => {
    await store.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A run that crashed after journaling `count` segments per rendition (nothing uploaded). */
  async function crashedRun(count = 3): Promise<{ runId: string; journal: SegmentJournal; bytes: Map<string, Buffer> }> {
    const { id: runId } = await registry.createRun({ width: 160, height: 90, fps: 10, segmentDuration: 1 });
    const run: JournalRun = {
      runId, startedAt: new Date().toISOString(), width: 160, height: 90, fps: 10, segmentDuration: 1,
      renditions: CHILD_RENDITIONS, segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
    };
    const journal = await SegmentJournal.create(journalDir(), run);
    const bytes = new Map<string, Buffer>();
    for (let index = 0; index < count; index += 1) {
      for (const { name } of CHILD_RENDITIONS) {
        const data = randomBytes(1500 + index);
        bytes.set(`${name}/${index}`, data);
        await journal.append({ rendition: name, index, duration: 1, codecs: 'avc1.42000d', data });
      }
    }
    await journal.close();
    return { runId, journal, bytes };
  }

  /** A pid that belonged to a process which has exited. */
  function deadPid(): number {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(child.stdout);
  }

  test('a run whose producer still sends heartbeats is refused, and resumed once it stalled', async () => {
    const { id: runId } = await registry.createRun({ width: 160, height: 90, fps: 10, segmentDuration: 1 });
    await registry.heartbeat(runId);
    await assert.rejects(resumeRun({ registry, store, runId, journalDir: journalDir() }), (error: unknown) => {
      assert.ok(error instanceof RunAliveError);
      assert.match((error as Error).message, /is still being produced \(its last heartbeat was \d+\.\d s ago; a run is stalled after 5 s without one\)/);
      return true;
    });
    assert.equal((await registry.getRun(runId))!.status, 'live', 'nothing was published under the live producer');
    await client.query(`UPDATE runs SET heartbeat_at = now() - interval '1 minute' WHERE id = $1`, [runId]);
    // Stalled now: resume goes ahead (this run never recorded a segment, so finalizing has nothing to list).
    await assert.rejects(resumeRun({ registry, store, runId, journalDir: journalDir() }), /never published playlists and has no journal/);
  });

  test('a producer holding the journal on this machine is refused; one that died (stale lock) is resumed whatever its heartbeat', async () => {
    const { runId, journal } = await crashedRun();
    const producer = await JournalLock.acquire(journal.dir, 'producer');
    await assert.rejects(resumeRun({ registry, store, runId, journalDir: journalDir() }), (error: unknown) => {
      assert.ok(error instanceof JournalLockedError);
      assert.match((error as Error).message, new RegExp(`held by the producer of this run, process ${process.pid} on `));
      return true;
    });
    assert.ok(existsSync(journal.dir), 'the journal is untouched');
    await producer.release();
    // The producer was SIGKILLed: its lock file names a process that is gone. Its last heartbeat is fresh.
    await writeFile(join(journal.dir, 'lock'), JSON.stringify({ role: 'producer', pid: deadPid(), host: hostname(), since: new Date().toISOString() }));
    await registry.heartbeat(runId);
    const result = await resumeRun({ registry, store, runId, journalDir: journalDir() });
    assert.equal(result.uploaded, 6);
    assert.equal((await registry.getRun(runId))!.status, 'ended');
    assert.equal(existsSync(journal.dir), false);
  });

  test('two resumes cannot race: the journal lock and the run lease each let one through', async () => {
    const { runId } = await crashedRun();
    const results = await Promise.allSettled([1, 2].map(() => resumeRun({ registry, store, runId, journalDir: journalDir() })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(refused.reason instanceof JournalLockedError || /already ended|is ended/.test(String(refused.reason)), String(refused.reason));

    // Without a journal (another machine's run), the registry lease decides.
    const other = await crashedRun();
    await rm(other.journal.dir, { recursive: true });
    for (let index = 0; index < 2; index += 1) {
      for (const { name } of CHILD_RENDITIONS) {
        await registry.recordSegment(other.runId, { rendition: name, index, cid: await store.add(randomBytes(900)), duration: 1, bytes: 900 });
      }
    }
    await registry.publishPlaylists(other.runId, 'bafkreiplaceholder', Object.fromEntries(CHILD_RENDITIONS.map((r) => [r.name, {
      cid: 'bafkreiplaceholder', width: r.width, height: r.height, bitrate: r.bitrate, bandwidth: 1, averageBandwidth: 1, codecs: 'avc1.42000d', frameRate: 10,
    }])), { sequence: 1 });
    assert.equal(await registry.acquireRunLock(other.runId, 'sweeper on another server', 60_000), true);
    await assert.rejects(resumeRun({ registry, store, runId: other.runId, journalDir: journalDir() }), (error: unknown) => {
      assert.ok(error instanceof RunLockedError);
      assert.match((error as Error).message, /is being completed by sweeper on another server/);
      return true;
    });
    await registry.releaseRunLock(other.runId, 'sweeper on another server');
    await resumeRun({ registry, store, runId: other.runId, journalDir: journalDir() }).catch(() => undefined);
    assert.equal(await registry.runLockHolder(other.runId), undefined, 'resume releases its lease');
  });

  test('an unreadable journal file is reported missing; the rest is uploaded; the run ends failed and a later resume completes it', async () => {
    const { runId, journal, bytes } = await crashedRun(4);
    const [high, low] = CHILD_RENDITIONS.map((r) => r.name);
    const lost = join(journal.dir, high, '1.ts');
    await rename(lost, `${lost}.away`);
    const first = await resumeRun({ registry, store, runId, journalDir: journalDir() });
    assert.deepEqual(first.missing, [{ rendition: high, index: 1 }]);
    assert.equal(first.uploaded, 7);
    let run = (await registry.getRun(runId))!;
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.missing, [{ rendition: high, index: 1 }]);
    assert.match(run.error!, /1 journaled segment\(s\) could not be read: .*\/1 \(ENOENT/);
    const listed = async (name: string) => parsePlaylist(new TextDecoder().decode(await store.cat(run.qualityPlaylists[name].cid))).manifest.segments.length;
    assert.equal(await listed(high), 1, 'the rendition ends before the missing segment');
    assert.equal(await listed(low), 4);
    assert.ok(existsSync(journal.dir), 'the journal stays for another try');

    // The file is back (a remounted disk): resume completes the run and lists everything.
    await rename(`${lost}.away`, lost);
    const second = await resumeRun({ registry, store, runId, journalDir: journalDir() });
    assert.deepEqual(second.missing, []);
    assert.equal(second.uploaded, 1);
    run = (await registry.getRun(runId))!;
    assert.equal(run.status, 'ended');
    assert.equal(await listed(high), 4);
    const uris = parsePlaylist(new TextDecoder().decode(await store.cat(run.qualityPlaylists[high].cid))).manifest.segments.map((s) => s.uri);
    assert.deepEqual(Buffer.from(await store.cat(uris[1].slice('/ipfs/'.length))), bytes.get(`${high}/1`));
    assert.equal(existsSync(journal.dir), false);
    assert.equal(await readFile(lost).catch(() => 'gone'), 'gone');
  });
});
