// Registry schema version 5, run against embedded PGlite and a real
// PostgreSQL 15: channels (a run numbered after the channel's previous one),
// the channel's tail, heartbeats and silent runs, run leases, archive chunks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ChannelChangedError, migrate, openPgliteClient, openPostgresClient, RunRegistry, type SqlClient,
} from '../../src/registry/index.js';
import { stalledAfterMs } from '../../src/model/heartbeat.js';
import { startPostgres } from '../support/postgres.js';

const RUN = { width: 320, height: 180, fps: 10, segmentDuration: 1, windowSeconds: 6 };

function channelSuite(name: string, open: () => Promise<{ client: SqlClient; teardown: () => Promise<void> }>): void {
  describe(name, () => {
    let client: SqlClient;
    let registry: RunRegistry;
    let teardown: () => Promise<void>;

    before(async () => {
      ({ client, teardown } = await open());
      await migrate(client);
      registry = new RunRegistry(client);
    });

    after(async () => {
      await registry?.close();
      await teardown?.();
    });

    const record = (runId: string, rendition: string, msn: number, duration = 1) =>
      registry.recordSegment(runId, { rendition, index: msn, cid: `${runId}-${rendition}-${msn}`, duration, bytes: 100 + msn });

    test('a channel run is numbered after every MSN a viewer may have seen of the previous run (segments and parts), one discontinuity later', async () => {
      const startedAt = new Date('2026-12-01T10:00:00.000Z');
      const first = await registry.createRun({ ...RUN, channel: 'news', follows: null, startedAt, segmentUrl: '/ipfs/{cid}' });
      assert.equal(first.channel, 'news');
      assert.equal(first.msnBase, 0);
      assert.equal(first.discontinuitySequence, 0);
      assert.equal(first.previousRunId, null);
      assert.equal(first.windowSeconds, 6);
      for (let msn = 0; msn < 10; msn++) await record(first.id, 'high', msn);
      for (let msn = 0; msn < 8; msn++) await record(first.id, 'low', msn);
      // LL-HLS viewers saw part 10.0 of a segment the producer never finished.
      await registry.recordPart(first.id, { rendition: 'low', segmentIndex: 10, partIndex: 0, cid: 'part-10.0', duration: 0.5, independent: true, bytes: 10 });
      await registry.setInitSegment(first.id, 'high', 'init-high');
      await registry.publishPlaylists(first.id, 'master-1', {});
      assert.deepEqual(await registry.getChannel('news'), {
        name: 'news', createdAt: (await registry.getChannel('news'))!.createdAt, newestRunId: first.id, currentRunId: first.id,
      });

      // The next producer expected `first` to be the newest: it continues at MSN 11, past high's 0..9 and low's part
      // of 10 (reusing 8 or 10 would give a segment a high or LL viewer saw a second discontinuity sequence).
      const second = await registry.createRun({ ...RUN, channel: 'news', follows: first.id, startedAt: new Date('2026-12-01T11:00:00.000Z') });
      assert.equal(second.msnBase, 11);
      assert.equal(second.discontinuitySequence, 1);
      assert.equal(second.previousRunId, first.id);
      let channel = await registry.getChannel('news');
      assert.equal(channel?.newestRunId, second.id);
      assert.equal(channel?.currentRunId, first.id, 'the channel serves the previous run until the new one publishes');
      await registry.publishPlaylists(second.id, 'master-2', {});
      channel = await registry.getChannel('news');
      assert.equal(channel?.currentRunId, second.id);

      // Its registry indexes are MSNs; its counts are still counts.
      await record(second.id, 'high', 11);
      await record(second.id, 'high', 12);
      await record(second.id, 'high', 14);
      assert.deepEqual((await registry.getRun(second.id))?.segmentCounts, { high: { recorded: 3, contiguous: 2 } });
      assert.equal(await registry.channelRunForMsn('news', 7), first.id);
      assert.equal(await registry.channelRunForMsn('news', 10), first.id, 'the unfinished MSN stays the first run\'s (its parts answer)');
      assert.equal(await registry.channelRunForMsn('news', 11), second.id);
      assert.equal(await registry.channelRunForMsn('news', 99), second.id);
      assert.equal(await registry.channelRunForMsn('elsewhere', 1), undefined);

      // The tail before MSN 13, 6 deep: 7..9 from the first run, 11..12 from the second (after its discontinuity);
      // 10 has no segment (the publisher lists it as a gap).
      const tail = (await registry.channelTail('news', 13, 6)).filter((segment) => segment.rendition === 'high');
      assert.deepEqual(tail.map((s) => [s.msn, s.runId, s.discontinuity, s.discontinuitySequence]), [
        [7, first.id, false, 0], [8, first.id, false, 0], [9, first.id, false, 0], [11, second.id, true, 1], [12, second.id, false, 1],
      ]);
      assert.deepEqual(tail[0].startedAt, new Date('2026-12-01T10:00:07.000Z'));
      assert.deepEqual(tail[3].startedAt, new Date('2026-12-01T11:00:00.000Z'));
      assert.equal(tail[0].segmentUrl, '/ipfs/{cid}');
      assert.equal(tail[0].initCid, 'init-high');
      assert.equal(tail[0].cid, `${first.id}-high-7`);
    });

    test('a private channel: its runs keep their encryption, and the tail carries each segment\'s key, its init segment\'s and its run\'s key URL', async () => {
      const keyOf = (index: number, n: number) => ({ index, iv: n.toString(16).padStart(32, '0') });
      const first = await registry.createRun({ ...RUN, channel: 'vault', follows: null, encryption: 'aes-128', keyRotation: 2, keyUrl: 'https://k.example/{run}/{key}' });
      assert.deepEqual([first.encryption, first.keyRotation, first.keyUrl], ['aes-128', 2, 'https://k.example/{run}/{key}']);
      await registry.setInitSegment(first.id, '180p', 'init-a', keyOf(0, 99));
      for (let msn = 0; msn < 3; msn++) {
        await registry.recordSegment(first.id, { rendition: '180p', index: msn, cid: `a${msn}`, duration: 1, bytes: 100, key: keyOf(Math.floor(msn / 2), msn) });
      }
      const second = await registry.createRun({ ...RUN, channel: 'vault', follows: first.id, encryption: 'aes-128', keyUrl: '/runs/{run}/keys/{key}' });
      assert.deepEqual([second.encryption, second.keyRotation, second.keyUrl, second.msnBase], ['aes-128', null, '/runs/{run}/keys/{key}', 3]);
      assert.equal((await registry.getRun(second.id))!.encryption, 'aes-128');
      const tail = await registry.channelTail('vault', second.msnBase, 6);
      assert.deepEqual(tail.map((segment) => [segment.runId, segment.msn, segment.key, segment.initKey, segment.keyUrl]), [0, 1, 2].map((msn) => [
        first.id, msn, keyOf(Math.floor(msn / 2), msn), keyOf(0, 99), 'https://k.example/{run}/{key}',
      ]));
      // A clear channel's tail has no keys.
      const clear = await registry.createRun({ ...RUN, channel: 'open', follows: null });
      await record(clear.id, '180p', 0);
      const next = await registry.createRun({ ...RUN, channel: 'open', follows: clear.id });
      const [segment] = await registry.channelTail('open', next.msnBase, 6);
      assert.deepEqual([segment.key, segment.initKey, segment.keyUrl, next.encryption], [undefined, undefined, null, null]);
    });

    test('a producer that expected another newest run is refused; two starting at once, one wins', async () => {
      const first = await registry.createRun({ ...RUN, channel: 'race', follows: null });
      await assert.rejects(registry.createRun({ ...RUN, channel: 'race', follows: null }), (error: unknown) => {
        assert.ok(error instanceof ChannelChangedError);
        assert.match((error as Error).message, new RegExp(`Channel "race" moved on: its newest run is "${first.id}", not none`));
        return true;
      });
      const results = await Promise.allSettled([1, 2, 3].map(() => registry.createRun({ ...RUN, channel: 'race', follows: first.id })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ChannelChangedError));
    });

    test('channel names and windows are checked, naming the value', async () => {
      for (const bad of ['', 'News', 'a b', '-x', 'x-', 'a'.repeat(41), 'x/y', "x'; DROP TABLE runs; --"]) {
        await assert.rejects(registry.createRun({ ...RUN, channel: bad }), (error: Error) => {
          assert.match(error.message, /channel name matching .* for channel but received/);
          assert.ok(error.message.includes(JSON.stringify(bad).slice(0, 40)));
          return true;
        });
      }
      await assert.rejects(registry.createRun({ ...RUN, windowSeconds: undefined, channel: 'ok' }), /for windowSeconds/);
      await assert.rejects(registry.createRun({ ...RUN, windowSeconds: -1 }), /positive finite number for windowSeconds but received -1/);
    });

    test('heartbeats: a fresh run is not silent; a silent one outside a channel is listed for the sweeper', async () => {
      const fresh = await registry.createRun(RUN);
      assert.equal(await registry.heartbeat(fresh.id), true);
      const stored = (await registry.getRun(fresh.id))!;
      assert.ok(stored.heartbeatAt instanceof Date);
      const age = (await registry.heartbeatAgeMs(fresh.id))!;
      assert.ok(age < stalledAfterMs(RUN.segmentDuration), `silent ${age} ms`);
      assert.equal(await registry.heartbeatAgeMs('no-such-run'), undefined);
      assert.equal(await registry.heartbeatAgeMs((await registry.createRun(RUN)).id), null, 'never sent one');
      const gone = await registry.createRun(RUN);
      await registry.heartbeat(gone.id);
      const onChannel = await registry.createRun({ ...RUN, channel: 'silent', follows: null });
      await registry.heartbeat(onChannel.id);
      await client.query(`UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id IN ($1, $2)`, [gone.id, onChannel.id]);
      assert.ok((await registry.heartbeatAgeMs(gone.id))! >= 3_600_000);
      const silent = (await registry.listSilentRuns(60_000, 1000)).map((run) => run.id);
      assert.ok(silent.includes(gone.id));
      assert.ok(!silent.includes(fresh.id));
      assert.ok(!silent.includes(onChannel.id), 'a channel run waits for its next producer instead');
      await registry.markEnded(gone.id);
      assert.equal(await registry.heartbeat(gone.id), false, 'an ended run takes no heartbeat');
      assert.ok(!(await registry.listSilentRuns(60_000, 1000)).some((run) => run.id === gone.id));
    });

    test('a run lease: one holder at a time, renewable, released, and taken over once expired', async () => {
      const run = await registry.createRun(RUN);
      assert.equal(await registry.acquireRunLock(run.id, 'resume-a', 60_000), true);
      assert.equal(await registry.acquireRunLock(run.id, 'resume-b', 60_000), false);
      assert.equal(await registry.runLockHolder(run.id), 'resume-a');
      assert.equal(await registry.acquireRunLock(run.id, 'resume-a', 60_000), true, 'renewed by its holder');
      await registry.releaseRunLock(run.id, 'resume-b');
      assert.equal(await registry.runLockHolder(run.id), 'resume-a', 'only the holder releases');
      await registry.releaseRunLock(run.id, 'resume-a');
      assert.equal(await registry.acquireRunLock(run.id, 'resume-b', 1), true);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(await registry.acquireRunLock(run.id, 'sweeper', 60_000), true, 'an expired lease is taken over');
      await assert.rejects(registry.acquireRunLock('no-such-run', 'x', 1000), /does not exist|No run|not found/i);
    });

    test('archive chunks are recorded once and listed in order', async () => {
      const run = await registry.createRun(RUN);
      const chunk = (firstMsn: number) => ({
        firstMsn, segmentCount: 10, duration: 10, startedAt: new Date(Date.UTC(2026, 11, 1, 0, 0, firstMsn)),
        masterCid: `m${firstMsn}`, media: { high: { cid: `h${firstMsn}`, segmentCount: 10 } },
      });
      await registry.recordArchive(run.id, chunk(10));
      await registry.recordArchive(run.id, chunk(0));
      await registry.recordArchive(run.id, chunk(0));
      assert.deepEqual(await registry.listArchives(run.id), [{ runId: run.id, ...chunk(0) }, { runId: run.id, ...chunk(10) }]);
      await assert.rejects(registry.recordArchive(run.id, { ...chunk(20), media: { 'Bad Name': { cid: 'x', segmentCount: 1 } } }), /for rendition/);
    });

    test('forgetParts drops the part records below a segment', async () => {
      const run = await registry.createRun(RUN);
      await registry.setPartTarget(run.id, 0.5);
      for (let msn = 0; msn < 3; msn++) {
        for (let part = 0; part < 2; part++) {
          await registry.recordPart(run.id, { rendition: 'high', segmentIndex: msn, partIndex: part, cid: `p${msn}.${part}`, duration: 0.5, independent: part === 0, bytes: 5 });
        }
      }
      await registry.forgetParts(run.id, 'high', 2);
      assert.deepEqual((await registry.listRecentParts(run.id, 'high', 0)).map((p) => p.cid), ['p2.0', 'p2.1']);
    });
  });
}

channelSuite('channels on PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-channels-'));
  return { client: await openPgliteClient(join(dir, 'db')), teardown: async () => rmSync(dir, { recursive: true, force: true }) };
});

channelSuite('channels on PostgreSQL 15', async () => {
  const server = await startPostgres();
  return { client: await openPostgresClient(server.url), teardown: () => server.stop() };
});
