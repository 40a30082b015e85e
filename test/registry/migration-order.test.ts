// Migrations landed on two branches out of order: channels is version 5, private
// runs version 6, and main shipped 6 before 5. A database that main migrated
// (1, 2, 3, 4, 6) and a database that the channels branch migrated (1 to 5) must
// both come up to the whole schema when the merged code opens them: the migrator
// applies every version it lacks, not only those above the newest. Run against
// embedded PGlite and a real PostgreSQL 15.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { MIGRATIONS, migrate, openPgliteClient, openPostgresClient, RunRegistry, type SqlClient } from '../../src/registry/index.js';
import { startPostgres } from '../support/postgres.js';

const IV = '00112233445566778899aabbccddeeff';
const without = (version: number) => MIGRATIONS.filter((migration) => migration.version !== version);
const versionsOf = (migrations: readonly { version: number }[]) => migrations.map((migration) => migration.version);
const ALL = versionsOf(MIGRATIONS);

async function versions(client: SqlClient): Promise<number[]> {
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  return rows.map((row) => Number(row.version));
}

function orderSuite(name: string, open: () => Promise<{ client: () => Promise<SqlClient>; teardown: () => Promise<void> }>): void {
  describe(name, () => {
    let newClient: () => Promise<SqlClient>;
    let teardown: () => Promise<void>;
    const opened: SqlClient[] = [];
    const fresh = async () => {
      const client = await newClient();
      opened.push(client);
      return client;
    };

    before(async () => {
      ({ client: newClient, teardown } = await open());
    });
    after(async () => {
      for (const client of opened) await client.close().catch(() => undefined);
      await teardown?.();
    });

    test('a database main migrated (1, 2, 3, 4, 6 and on) gets 5, and its private run reads back whole', async () => {
      const client = await fresh();
      assert.deepEqual(await migrate(client, without(5)), versionsOf(without(5)));
      // A private run as main's registry wrote it: encryption, a wrapped key, a keyed segment.
      await client.query(
        `INSERT INTO runs (id, width, height, fps, segment_duration, encryption, key_rotation, key_url)
         VALUES ('rmain', 320, 180, 10, 1, 'aes-128', 4, '/runs/{run}/keys/{key}')`,
      );
      await client.query(`INSERT INTO run_keys (run_id, key_idx, wrapped) VALUES ('rmain', 0, 'wrapped-key')`);
      await client.query(
        `INSERT INTO segments (run_id, rendition, idx, cid, duration, bytes, key_idx, iv) VALUES ('rmain', 'low', 0, 'cid-0', 1, 100, 0, $1)`,
        [IV],
      );

      assert.deepEqual(await migrate(client), [5], 'the missing version, though 6 is newer');
      assert.deepEqual(await versions(client), ALL);
      assert.deepEqual(await migrate(client), [], 'then a no-op');

      const registry = new RunRegistry(client);
      const run = await registry.getRun('rmain');
      assert.equal(run?.encryption, 'aes-128');
      assert.equal(run?.keyRotation, 4);
      assert.equal(run?.msnBase, 0, 'an existing run is numbered from 0');
      assert.equal(run?.discontinuitySequence, 0);
      assert.equal(run?.windowSeconds, null);
      assert.equal(run?.channel, null);
      assert.equal(run?.heartbeatAt, null);
      assert.deepEqual((await registry.listSegments('rmain')).map((s) => [s.index, s.key]), [[0, { index: 0, iv: IV }]]);
      // Version 5's tables work: a channel run on the old database.
      const channelRun = await registry.createRun({ width: 320, height: 180, fps: 10, segmentDuration: 1, windowSeconds: 6, channel: 'after-main', follows: null });
      assert.equal((await registry.getChannel('after-main'))?.newestRunId, channelRun.id);
    });

    test('a database the channels branch migrated (1 to 5) gets 6 and on, and its channel run reads back whole', async () => {
      const client = await fresh();
      const channelsBranch = MIGRATIONS.filter((migration) => migration.version <= 5);
      assert.deepEqual(await migrate(client, channelsBranch), [1, 2, 3, 4, 5]);
      await client.query(
        `INSERT INTO runs (id, width, height, fps, segment_duration, channel, msn_base, discontinuity_sequence, window_seconds)
         VALUES ('rchan', 320, 180, 10, 1, 'news', 12, 2, 6)`,
      );
      assert.deepEqual(await migrate(client), ALL.filter((version) => version > 5));
      assert.deepEqual(await versions(client), ALL);
      const run = await new RunRegistry(client).getRun('rchan');
      assert.equal(run?.msnBase, 12);
      assert.equal(run?.discontinuitySequence, 2);
      assert.equal(run?.channel, 'news');
      assert.equal(run?.encryption, null);
    });
  });
}

orderSuite('migrations out of order on PGlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-migration-order-'));
  let n = 0;
  return {
    client: () => openPgliteClient(join(dir, `db-${n++}`)),
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

orderSuite('migrations out of order on PostgreSQL 15', async () => {
  const server = await startPostgres();
  let n = 0;
  return {
    client: async () => {
      // One database per test: each starts from an empty schema.
      const admin = await openPostgresClient(server.url);
      const name = `order_${n++}`;
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.close();
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return openPostgresClient(url.toString());
    },
    teardown: () => server.stop(),
  };
});
