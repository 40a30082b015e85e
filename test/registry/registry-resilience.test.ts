// What the longrun publisher's retry queue relies on: which registry errors are
// worth retrying, that a hung statement fails in bounded time, and that the
// schema upgrade to version 3 backfills the segment counts of existing runs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isTransientRegistryError,
  MIGRATIONS,
  migrate,
  openPgliteClient,
  openPostgresClient,
  RegistryUnavailableError,
  RunNotFoundError,
  RunRegistry,
  RunStatusError,
  SegmentConflictError,
} from '../../src/registry/index.js';
import { startPostgres } from '../support/postgres.js';

describe('isTransientRegistryError', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  test('connection failures, timeouts, shutdowns, overload and deadlocks are transient', () => {
    for (const error of [
      new RegistryUnavailableError('PostgreSQL not reachable'),
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('08006'), // connection_failure
      withCode('57P01'), // admin_shutdown
      withCode('57014'), // query_canceled (statement_timeout)
      withCode('53300'), // too_many_connections
      withCode('40P01'), // deadlock_detected
      withCode('40001'), // serialization_failure
      new Error('Query read timeout'),
      new Error('Connection terminated unexpectedly'),
      new AggregateError([withCode('ECONNREFUSED')], ''),
    ]) {
      assert.equal(isTransientRegistryError(error), true, `${(error as Error).message} ${(error as { code?: string }).code}`);
    }
  });

  test('validation, state and constraint errors are permanent', () => {
    for (const error of [
      new RangeError('Expected integer between 0 and 2147483647 for index but received -1'),
      new TypeError('Expected object for segment but received null'),
      new RunNotFoundError('r1'),
      new RunStatusError('r1', 'ended', 'failed'),
      new SegmentConflictError('r1', '360p', 3, 'a', 'b'),
      withCode('23505'), // unique_violation
      withCode('42P01'), // undefined_table
      new Error('something else'),
      'not an error',
      undefined,
    ]) {
      assert.equal(isTransientRegistryError(error), false, String(error));
    }
  });
});

describe('PostgreSQL pool limits', () => {
  test('statement_timeout and query_timeout turn a hung statement into a transient error', async () => {
    const server = await startPostgres();
    try {
      const byServer = await openPostgresClient(server.url, { statementTimeoutMs: 200, queryTimeoutMs: 30_000 });
      const byClient = await openPostgresClient(server.url, { statementTimeoutMs: 30_000, queryTimeoutMs: 300 });
      try {
        const { rows } = await byServer.query<{ name: string; timeout: string }>(
          "SELECT current_setting('application_name') AS name, current_setting('statement_timeout') AS timeout",
        );
        assert.deepEqual(rows[0], { name: 'abrcast', timeout: '200ms' });

        const serverSide = await byServer.query('SELECT pg_sleep(5)').then(() => undefined, (error: unknown) => error);
        assert.equal((serverSide as { code?: string }).code, '57014');
        assert.equal(isTransientRegistryError(serverSide), true);

        const clientSide = await byClient.query('SELECT pg_sleep(5)').then(() => undefined, (error: unknown) => error);
        assert.ok(clientSide instanceof RegistryUnavailableError, String(clientSide));
        assert.match(clientSide.message, /Query read timeout/);
        assert.equal(isTransientRegistryError(clientSide), true);
        // The pool recovers: the next query gets a fresh connection.
        assert.deepEqual((await byClient.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
      } finally {
        await byServer.close();
        await byClient.close();
      }
      await assert.rejects(openPostgresClient(server.url, { queryTimeoutMs: 0 }), /positive integer of milliseconds for queryTimeoutMs/);
    } finally {
      await server.stop();
    }
  });
});

describe('PGlite wait bound', () => {
  test('a call stuck behind a transaction that does not finish gets a transient error; the database recovers', async () => {
    const client = await openPgliteClient('memory://', { waitTimeoutMs: 300 });
    try {
      // PGlite runs one statement or transaction at a time: this one holds it until `release`.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holder = client.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await gate;
      }).then(() => undefined, (error: unknown) => error);

      const waiting = await client.query('SELECT 2').then(() => undefined, (error: unknown) => error);
      assert.ok(waiting instanceof RegistryUnavailableError, String(waiting));
      assert.match(waiting.message, /PGlite did not answer within 300 ms/);
      assert.equal(isTransientRegistryError(waiting), true);
      const held = await holder;
      assert.ok(held instanceof RegistryUnavailableError, 'the stuck transaction itself is reported too');

      release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual((await client.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
    } finally {
      await client.close();
    }
    await assert.rejects(openPgliteClient('memory://', { waitTimeoutMs: 0 }), /positive integer of milliseconds for waitTimeoutMs/);
  });
});

describe('migration 3', () => {
  test('backfills the segment counts of runs recorded before it', async () => {
    const client = await openPgliteClient('memory://');
    try {
      // Bring a database to version 2 by hand, as an older abrcast left it.
      await client.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) {
        for (const statement of migration.statements) await client.query(statement);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      }
      await client.query("INSERT INTO runs (id, width, height, fps, segment_duration) VALUES ('old', 640, 360, 30, 2)");
      const rows: [string, number, number][] = [
        ['720p', 0, 2], ['720p', 1, 2], ['720p', 2, 2], ['720p', 4, 2],
        ['360p', 1, 2], ['360p', 2, 2],
        ['240p', 0, 2], ['240p', 1, 0], ['240p', 2, 2],
      ];
      for (const [rendition, idx, duration] of rows) {
        await client.query("INSERT INTO segments (run_id, rendition, idx, cid, duration, bytes) VALUES ('old', $1, $2, 'c', $3, 1)", [
          rendition, idx, duration,
        ]);
      }
      assert.deepEqual(await migrate(client), MIGRATIONS.filter((m) => m.version >= 3).map((m) => m.version));
      const registry = new RunRegistry(client);
      const run = await registry.getRun('old');
      assert.deepEqual(run?.segmentCounts, {
        '720p': { recorded: 4, contiguous: 3 },
        '360p': { recorded: 2, contiguous: 0 },
        '240p': { recorded: 3, contiguous: 1 },
      });
      assert.deepEqual(run?.missing, []);
      assert.equal(run?.startedAt, null);
      // And recording continues from the backfilled prefix.
      await registry.recordSegment('old', { rendition: '720p', index: 3, cid: 'c3', duration: 2, bytes: 1 });
      assert.deepEqual((await registry.getRun('old'))?.segmentCounts['720p'], { recorded: 5, contiguous: 5 });
    } finally {
      await client.close();
    }
  });
});
