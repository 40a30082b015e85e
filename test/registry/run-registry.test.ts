// One suite, run against embedded PGlite and a real PostgreSQL 15: the same
// SQL must behave the same on both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isValidRunId,
  MIGRATIONS,
  migrate,
  openPgliteClient,
  openPostgresClient,
  RunExistsError,
  RunNotFoundError,
  RunRegistry,
  RunStatusError,
  type SqlClient,
} from '../../src/registry/index.js';
import type { VariantStreamRecords } from '../../src/model/variant-stream-record.js';
import { startPostgres } from '../support/postgres.js';

interface Backend {
  /** Opens a client on the same database every time (data must survive close + reopen). */
  open(): Promise<SqlClient>;
  teardown(): Promise<void>;
}

function playlists(tag: string): VariantStreamRecords {
  return {
    '1080p': {
      cid: `bafy-1080-${tag}`,
      width: 1920,
      height: 1080,
      bitrate: 5000,
      bandwidth: 5_500_000,
      averageBandwidth: 5_100_000,
      codecs: 'avc1.640028',
      frameRate: 29.97,
    },
    '360p': {
      cid: `bafy-360-${tag}`,
      width: 640,
      height: 360,
      bitrate: 800,
      bandwidth: 880_000,
      averageBandwidth: 810_000,
      codecs: 'avc1.64001e,mp4a.40.2',
      frameRate: 30,
    },
  };
}

const RUN_SIZE = { width: 1920, height: 1080, fps: 30, segmentDuration: 2 };

function registrySuite(name: string, createBackend: () => Promise<Backend>): void {
  describe(name, () => {
    let backend: Backend;
    let client: SqlClient;
    let registry: RunRegistry;
    let firstMigration: number[];

    before(async () => {
      backend = await createBackend();
      client = await backend.open();
      firstMigration = await migrate(client);
      registry = new RunRegistry(client);
    });

    after(async () => {
      await registry?.close();
      await backend?.teardown();
    });

    test('migrations apply once and are a no-op on reopen', async () => {
      assert.deepEqual(firstMigration, MIGRATIONS.map((m) => m.version));
      const run = await registry.createRun({ id: 'survives-reopen', ...RUN_SIZE });

      await registry.close();
      client = await backend.open();
      assert.deepEqual(await migrate(client), []);
      assert.deepEqual(await migrate(client), []);
      registry = new RunRegistry(client);

      const { rows } = await client.query<{ version: number; n: string | number }>(
        'SELECT version, count(*) OVER () AS n FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      assert.equal(Number(rows[0].n), MIGRATIONS.length);
      assert.deepEqual(await registry.getRun(run.id), run);
      assert.equal(registry.dialect, client.dialect);
    });

    test('migrate refuses a schema newer than it knows', async () => {
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [9999, 'from the future']);
      try {
        await assert.rejects(migrate(client), /schema version 9999 is newer/);
      } finally {
        await client.query('DELETE FROM schema_migrations WHERE version = $1', [9999]);
      }
    });

    test('createRun generates a short URL-safe id and getRun returns the stored record', async () => {
      const startedAt = Date.now();
      const created = await registry.createRun({ width: 1280, height: 720, fps: 29.97, segmentDuration: 1.5 });
      assert.match(created.id, /^r[a-z2-7]{12}$/);
      assert.ok(isValidRunId(created.id));

      const fetched = await registry.getRun(created.id);
      assert.deepEqual(fetched, created);
      assert.ok(fetched);
      assert.equal(fetched.status, 'live');
      assert.equal(fetched.width, 1280);
      assert.equal(fetched.height, 720);
      assert.equal(fetched.fps, 29.97);
      assert.equal(fetched.segmentDuration, 1.5);
      assert.equal(fetched.masterCid, null);
      assert.deepEqual(fetched.qualityPlaylists, {});
      assert.equal(fetched.playlistSequence, 0);
      assert.equal(fetched.error, null);
      assert.ok(fetched.createdAt instanceof Date && fetched.updatedAt instanceof Date);
      assert.ok(Math.abs(fetched.createdAt.getTime() - startedAt) < 60_000, 'createdAt is the current time');

      const other = await registry.createRun(RUN_SIZE);
      assert.notEqual(other.id, created.id);
      assert.equal(await registry.getRun('no-such-run'), undefined);
    });

    test('createRun keeps a given id, refuses a taken or malformed one and bad sizes', async () => {
      const run = await registry.createRun({ id: 'demo-run_1', ...RUN_SIZE });
      assert.equal(run.id, 'demo-run_1');
      await assert.rejects(registry.createRun({ id: 'demo-run_1', ...RUN_SIZE }), RunExistsError);
      await assert.rejects(registry.createRun({ id: 'Demo', ...RUN_SIZE }), /for id but received "Demo"/);
      await assert.rejects(registry.createRun({ id: 'a/b', ...RUN_SIZE }), RangeError);
      await assert.rejects(
        registry.createRun({ ...RUN_SIZE, width: 0 }),
        { name: 'RangeError', message: 'Expected integer between 1 and 2147483647 for width but received 0' },
      );
      await assert.rejects(registry.createRun({ ...RUN_SIZE, fps: Number.NaN }), /positive finite number for fps/);
    });

    test('listRuns returns the newest first, up to limit', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await registry.createRun(RUN_SIZE)).id);
      const newest = await registry.listRuns({ limit: 3 });
      assert.deepEqual(newest.map((r) => r.id), [...ids].reverse());
      for (let i = 1; i < newest.length; i++) {
        assert.ok(newest[i - 1].createdAt >= newest[i].createdAt);
      }
      assert.equal((await registry.listRuns({ limit: 1 }))[0].id, ids[2]);
      const all = await registry.listRuns();
      assert.ok(all.length >= 5);
      await assert.rejects(registry.listRuns({ limit: 0 }), RangeError);
    });

    test('quality playlists round-trip through JSONB and one quality can be read by key', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const result = await registry.publishPlaylists(run.id, 'bafy-master-a', playlists('a'));
      assert.deepEqual(result, { applied: true, sequence: 1 });

      const stored = await registry.getRun(run.id);
      assert.ok(stored);
      assert.equal(stored.masterCid, 'bafy-master-a');
      assert.deepEqual(stored.qualityPlaylists, playlists('a'));
      assert.ok(stored.updatedAt >= stored.createdAt);

      assert.deepEqual(await registry.getQualityPlaylist(run.id, '360p'), playlists('a')['360p']);
      assert.equal(await registry.getQualityPlaylist(run.id, '720p'), undefined);
      assert.equal(await registry.getQualityPlaylist('no-such-run', '360p'), undefined);

      // Stored as a JSONB object (not a string), so SQL can reach inside it.
      const { rows } = await client.query<{ kind: string; cid: string; fps: number }>(
        `SELECT jsonb_typeof(quality_playlists) AS kind,
                quality_playlists -> '1080p' ->> 'cid' AS cid,
                (quality_playlists -> '1080p' ->> 'frameRate')::float8 AS fps
         FROM runs WHERE id = $1`,
        [run.id],
      );
      assert.deepEqual(rows[0], { kind: 'object', cid: 'bafy-1080-a', fps: 29.97 });
    });

    test('publishPlaylists stores only the known fields and validates them', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const extra = playlists('x') as unknown as Record<string, Record<string, unknown>>;
      extra['360p'].secret = 'not stored';
      await registry.publishPlaylists(run.id, 'bafy-master-x', extra as unknown as VariantStreamRecords);
      assert.deepEqual(await registry.getQualityPlaylist(run.id, '360p'), playlists('x')['360p']);

      const badName = { 'Bad Name': playlists('y')['360p'] };
      await assert.rejects(registry.publishPlaylists(run.id, 'm', badName), /for qualityPlaylists key/);
      const noCid = { '360p': { ...playlists('y')['360p'], cid: '' } };
      await assert.rejects(registry.publishPlaylists(run.id, 'm', noCid), /for qualityPlaylists\.360p\.cid/);
      await assert.rejects(registry.publishPlaylists('no-such-run', 'm', playlists('y')), RunNotFoundError);
      assert.equal((await registry.getRun(run.id))?.masterCid, 'bafy-master-x');
    });

    test('an older publish never replaces a newer one', async () => {
      const run = await registry.createRun(RUN_SIZE);
      assert.deepEqual(
        await registry.publishPlaylists(run.id, 'bafy-master-5', playlists('5'), { sequence: 5 }),
        { applied: true, sequence: 5 },
      );
      assert.deepEqual(
        await registry.publishPlaylists(run.id, 'bafy-master-3', playlists('3'), { sequence: 3 }),
        { applied: false, sequence: 5 },
      );
      assert.deepEqual(
        await registry.publishPlaylists(run.id, 'bafy-master-5b', playlists('5b'), { sequence: 5 }),
        { applied: false, sequence: 5 },
      );
      let stored = await registry.getRun(run.id);
      assert.equal(stored?.masterCid, 'bafy-master-5');
      assert.deepEqual(stored?.qualityPlaylists, playlists('5'));
      assert.equal(stored?.playlistSequence, 5);

      assert.equal((await registry.publishPlaylists(run.id, 'bafy-master-6', playlists('6'), { sequence: 6 })).applied, true);
      // Without a sequence a publish goes after the newest stored one.
      assert.deepEqual(await registry.publishPlaylists(run.id, 'bafy-master-7', playlists('7')), {
        applied: true,
        sequence: 7,
      });
      stored = await registry.getRun(run.id);
      assert.equal(stored?.masterCid, 'bafy-master-7');
      assert.equal(stored?.qualityPlaylists['1080p'].cid, 'bafy-1080-7');
      await assert.rejects(
        registry.publishPlaylists(run.id, 'm', playlists('0'), { sequence: 0 }),
        /integer between 1 and \d+ for sequence but received 0/,
      );
    });

    test('racing publishes settle on the highest sequence', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const sequences = Array.from({ length: 24 }, (_, i) => i + 1);
      // Deterministic shuffle so the highest sequence is neither first nor last.
      sequences.sort((a, b) => ((a * 7) % 24) - ((b * 7) % 24));
      const results = await Promise.all(
        sequences.map((seq) => registry.publishPlaylists(run.id, `bafy-master-${seq}`, playlists(String(seq)), { sequence: seq })),
      );
      for (const [i, result] of results.entries()) {
        if (result.applied) assert.equal(result.sequence, sequences[i]);
        else assert.ok(result.sequence > sequences[i], 'a rejected publish saw a newer stored sequence');
      }
      const stored = await registry.getRun(run.id);
      assert.equal(stored?.playlistSequence, 24);
      assert.equal(stored?.masterCid, 'bafy-master-24');
      assert.deepEqual(stored?.qualityPlaylists, playlists('24'));
    });

    test('segments upsert by (rendition, index) and list in rendition, index order', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const writes = [
        { rendition: '720p', index: 2 },
        { rendition: 'hi_1', index: 0 },
        { rendition: '1080p', index: 1 },
        { rendition: '720p', index: 0 },
        { rendition: 'hi-2', index: 0 },
        { rendition: '1080p', index: 0 },
        { rendition: '720p', index: 1 },
      ];
      for (const { rendition, index } of writes) {
        await registry.recordSegment(run.id, { rendition, index, cid: `cid-${rendition}-${index}`, duration: 2, bytes: 1000 + index });
      }
      // Replaying a segment (a retry whose first attempt committed) changes nothing; another CID is a conflict.
      await registry.recordSegment(run.id, { rendition: '720p', index: 1, cid: 'cid-720p-1', duration: 2, bytes: 1001 });
      await assert.rejects(
        registry.recordSegment(run.id, { rendition: '720p', index: 1, cid: 'cid-720p-1-other', duration: 1.96, bytes: 4321 }),
        { name: 'SegmentConflictError', message: /already has 720p segment 1 with CID cid-720p-1, not cid-720p-1-other/ },
      );

      const listed = await registry.listSegments(run.id);
      const expectedOrder = writes
        .map(({ rendition, index }) => `${rendition}/${index}`)
        .sort((a, b) => {
          const [ra, ia] = a.split('/');
          const [rb, ib] = b.split('/');
          return ra < rb ? -1 : ra > rb ? 1 : Number(ia) - Number(ib);
        });
      assert.deepEqual(listed.map((s) => `${s.rendition}/${s.index}`), expectedOrder);
      const retried = listed.find((s) => s.rendition === '720p' && s.index === 1);
      assert.equal(retried?.cid, 'cid-720p-1');
      assert.equal(retried?.duration, 2);
      assert.equal(retried?.bytes, 1001);
      assert.equal(retried?.runId, run.id);
      assert.ok(retried?.createdAt instanceof Date);

      const only720 = await registry.listSegments(run.id, '720p');
      assert.deepEqual(only720.map((s) => s.index), [0, 1, 2]);
      assert.deepEqual(await registry.listSegments(run.id, '480p'), []);

      await assert.rejects(
        registry.recordSegment('no-such-run', { rendition: '720p', index: 0, cid: 'c', duration: 2, bytes: 1 }),
        RunNotFoundError,
      );
      await assert.rejects(
        registry.recordSegment(run.id, { rendition: '../720p', index: 0, cid: 'c', duration: 2, bytes: 1 }),
        /for rendition but received "\.\.\/720p"/,
      );
      await assert.rejects(
        registry.recordSegment(run.id, { rendition: '720p', index: -1, cid: 'c', duration: 2, bytes: 1 }),
        RangeError,
      );
    });

    test('status moves live to ended or failed, failed to ended; ended stays', async () => {
      const ended = await registry.createRun(RUN_SIZE);
      await registry.markEnded(ended.id);
      await registry.markEnded(ended.id); // idempotent
      let stored = await registry.getRun(ended.id);
      assert.equal(stored?.status, 'ended');
      assert.equal(stored?.error, null);
      await assert.rejects(registry.markFailed(ended.id, 'late'), RunStatusError);

      const failed = await registry.createRun(RUN_SIZE);
      await registry.markFailed(failed.id, 'encoder crashed: it\'s "bad"');
      await registry.markFailed(failed.id, 'second error');
      stored = await registry.getRun(failed.id);
      assert.equal(stored?.status, 'failed');
      assert.equal(stored?.error, 'encoder crashed: it\'s "bad"');
      // A failed (or crashed) run completed later by finalize or resume ends, and forgets its error.
      await registry.markEnded(failed.id);
      stored = await registry.getRun(failed.id);
      assert.equal(stored?.status, 'ended');
      assert.equal(stored?.error, null);
      await assert.rejects(registry.markFailed(failed.id, 'again'), { name: 'RunStatusError', message: /is ended and cannot be marked failed/ });

      await assert.rejects(registry.markEnded('no-such-run'), RunNotFoundError);
      // The CHECK constraint guards the column even against direct SQL.
      await assert.rejects(client.query("UPDATE runs SET status = 'paused' WHERE id = $1", [failed.id]), { code: '23514' });

      // A final playlist may still be published after the run ended.
      assert.equal((await registry.publishPlaylists(ended.id, 'bafy-final', playlists('final'))).applied, true);
    });

    test('a run keeps its start time and URL templates; a failed run its missing list', async () => {
      const startedAt = new Date('2026-11-30T08:00:00.125Z');
      const run = await registry.createRun({ ...RUN_SIZE, startedAt, segmentUrl: '/ipfs/{cid}', playlistUrl: 'https://gw.example/ipfs/{cid}' });
      assert.deepEqual(run.startedAt, startedAt);
      assert.equal(run.segmentUrl, '/ipfs/{cid}');
      assert.equal(run.playlistUrl, 'https://gw.example/ipfs/{cid}');
      assert.deepEqual(run.missing, []);
      assert.deepEqual(run.segmentCounts, {});
      assert.deepEqual(await registry.getRun(run.id), run);

      const bare = await registry.createRun(RUN_SIZE);
      assert.equal(bare.startedAt, null);
      assert.equal(bare.segmentUrl, null);
      assert.equal(bare.playlistUrl, null);
      await assert.rejects(registry.createRun({ ...RUN_SIZE, startedAt: new Date(Number.NaN) }), /valid Date for startedAt/);
      await assert.rejects(registry.createRun({ ...RUN_SIZE, segmentUrl: '' }), /for segmentUrl but received ""/);

      const missing = [{ rendition: '360p', index: 7 }, { rendition: '1080p', index: 9 }];
      await registry.markFailed(run.id, 'Kubo went away', missing);
      let stored = await registry.getRun(run.id);
      assert.equal(stored?.status, 'failed');
      assert.equal(stored?.error, 'Kubo went away');
      assert.deepEqual(stored?.missing, missing);
      // Failing again keeps the first error and takes the newer missing list.
      await registry.markFailed(run.id, 'resume failed too', [missing[1]]);
      stored = await registry.getRun(run.id);
      assert.equal(stored?.error, 'Kubo went away');
      assert.deepEqual(stored?.missing, [missing[1]]);
      await registry.markFailed(run.id, 'no list');
      assert.deepEqual((await registry.getRun(run.id))?.missing, [missing[1]]);
      await assert.rejects(registry.markFailed(run.id, 'x', [{ rendition: '360p', index: -1 }]), /for missing\[0\]\.index/);

      await registry.markEnded(run.id);
      stored = await registry.getRun(run.id);
      assert.equal(stored?.status, 'ended');
      assert.deepEqual(stored?.missing, []);
      assert.deepEqual(stored?.startedAt, startedAt);
    });

    test('segment counts follow recordSegment, out of order and with gaps', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const record = (rendition: string, index: number, duration = 2) =>
        registry.recordSegment(run.id, { rendition, index, cid: `c-${rendition}-${index}`, duration, bytes: 100 });
      const counts = async () => (await registry.getRun(run.id))?.segmentCounts;

      await record('720p', 2);
      await record('720p', 1);
      assert.deepEqual(await counts(), { '720p': { recorded: 2, contiguous: 0 } });
      await record('720p', 0);
      assert.deepEqual(await counts(), { '720p': { recorded: 3, contiguous: 3 } });
      await record('720p', 0); // a retry: counted once
      await record('360p', 0);
      await record('360p', 2);
      assert.deepEqual(await counts(), { '720p': { recorded: 3, contiguous: 3 }, '360p': { recorded: 2, contiguous: 1 } });
      // A zero-duration segment is recorded but ends the playable prefix, like a missing one.
      await record('360p', 1, 0);
      await record('360p', 3);
      assert.deepEqual((await counts())?.['360p'], { recorded: 4, contiguous: 1 });

      // A long run behind one late segment: the prefix catches up across batches of the walk.
      for (let index = 4; index < 200; index++) await record('720p', index);
      assert.deepEqual((await counts())?.['720p'], { recorded: 199, contiguous: 3 });
      await record('720p', 3);
      assert.deepEqual((await counts())?.['720p'], { recorded: 200, contiguous: 200 });
    });

    test('concurrent recordSegment calls in any order count every segment once', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const total = 120;
      // Deterministic shuffle, written as many parallel writers per rendition, twice over (retries).
      const order = Array.from({ length: total }, (_, i) => (i * 37) % total);
      const writes = [...order, ...order.slice(0, 30)].flatMap((index) =>
        ['a', 'b'].map((rendition) =>
          registry.recordSegment(run.id, { rendition, index, cid: `${rendition}${index}`, duration: 1, bytes: 1 }),
        ),
      );
      await Promise.all(writes);
      assert.deepEqual((await registry.getRun(run.id))?.segmentCounts, {
        a: { recorded: total, contiguous: total },
        b: { recorded: total, contiguous: total },
      });
    });

    test('deleting a run removes its segments by cascade', async () => {
      const run = await registry.createRun(RUN_SIZE);
      const keep = await registry.createRun(RUN_SIZE);
      for (let index = 0; index < 3; index++) {
        await registry.recordSegment(run.id, { rendition: '720p', index, cid: `c${index}`, duration: 2, bytes: 10 });
      }
      await registry.recordSegment(keep.id, { rendition: '720p', index: 0, cid: 'k', duration: 2, bytes: 10 });

      assert.equal(await registry.deleteRun(run.id), true);
      assert.equal(await registry.getRun(run.id), undefined);
      const { rows } = await client.query<{ n: string | number }>('SELECT count(*) AS n FROM segments WHERE run_id = $1', [run.id]);
      assert.equal(Number(rows[0].n), 0);
      assert.equal((await registry.listSegments(keep.id)).length, 1);
      assert.equal(await registry.deleteRun(run.id), false);
    });

    test('SQL in a run id or quality name is only ever data', async () => {
      const victim = await registry.createRun({ id: 'victim', ...RUN_SIZE });
      await registry.publishPlaylists(victim.id, 'bafy-master-v', playlists('v'));
      await registry.recordSegment(victim.id, { rendition: '360p', index: 0, cid: 'v0', duration: 2, bytes: 1 });
      const runCount = (await registry.listRuns({ limit: 1000 })).length;

      for (const attack of ["victim' OR '1'='1", "victim'; DROP TABLE segments; --", "x'); DELETE FROM runs; --"]) {
        assert.equal(await registry.getRun(attack), undefined);
        assert.deepEqual(await registry.listSegments(attack), []);
        assert.equal(await registry.getQualityPlaylist(attack, '360p'), undefined);
        assert.equal(await registry.deleteRun(attack), false);
        await assert.rejects(registry.markEnded(attack), RunNotFoundError);
      }
      assert.equal(await registry.getQualityPlaylist(victim.id, "360p' OR '1'='1"), undefined);
      assert.deepEqual(await registry.listSegments(victim.id, "360p' OR '1'='1"), []);
      await assert.rejects(registry.createRun({ id: "a'; DROP TABLE runs; --", ...RUN_SIZE }), RangeError);

      assert.equal((await registry.listRuns({ limit: 1000 })).length, runCount);
      assert.equal((await registry.getRun(victim.id))?.status, 'live');
      assert.equal((await registry.listSegments(victim.id)).length, 1);
      assert.equal((await registry.getQualityPlaylist(victim.id, '360p'))?.cid, 'bafy-360-v');
    });
  });
}

registrySuite('RunRegistry on PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-pglite-'));
  return {
    open: () => openPgliteClient(join(dir, 'db')),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

registrySuite('RunRegistry on PostgreSQL 15', async () => {
  const server = await startPostgres();
  return {
    open: () => openPostgresClient(server.url),
    teardown: () => server.stop(),
  };
});

describe('PostgreSQL migrations under concurrency', () => {
  test('two registries migrating one fresh database at once both succeed, applying each version once', async () => {
    const server = await startPostgres();
    const clients: SqlClient[] = [];
    try {
      const url = await server.createDatabase('racing');
      for (let i = 0; i < 3; i++) clients.push(await openPostgresClient(url));
      const applied = await Promise.all(clients.map((c) => migrate(c)));
      assert.deepEqual(applied.flat().sort(), MIGRATIONS.map((m) => m.version));
      const { rows } = await clients[0].query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations');
      assert.equal(Number(rows[0].n), MIGRATIONS.length);
    } finally {
      for (const c of clients) await c.close();
      await server.stop();
    }
  });
});
