// Choosing the backend, and failing fast and clearly when PostgreSQL is not there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbrcastError } from '../../src/errors.js';
import {
  openPgliteClient,
  openRegistry,
  redactDatabaseUrl,
  RegistryUnavailableError,
} from '../../src/registry/index.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function timed<T>(promise: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  try {
    await promise;
    return { error: undefined, ms: Date.now() - start };
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
}

describe('openRegistry with an unreachable PostgreSQL', () => {
  test('a refused connection is a RegistryUnavailableError naming the URL without its password', async () => {
    const port = await closedPort();
    const { error, ms } = await timed(openRegistry({ databaseUrl: `postgres://abrcast:s3cret@127.0.0.1:${port}/abrcast` }));
    assert.ok(error instanceof RegistryUnavailableError, `got ${String(error)}`);
    assert.ok(error instanceof AbrcastError);
    assert.equal(error.name, 'RegistryUnavailableError');
    assert.equal(
      error.message,
      `PostgreSQL not reachable at postgres://abrcast@127.0.0.1:${port}/abrcast: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    assert.doesNotMatch(error.message, /s3cret/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  test('a host name resolving to several addresses still gives a readable reason', async () => {
    const port = await closedPort();
    const { error } = await timed(openRegistry({ databaseUrl: `postgresql://u:pw@localhost:${port}/db` }));
    assert.ok(error instanceof RegistryUnavailableError);
    assert.match(error.message, new RegExp(`^PostgreSQL not reachable at postgresql://u@localhost:${port}/db: .*ECONNREFUSED`));
  });

  describe('a server that accepts but never answers', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    before(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    test('times out within a few seconds', async () => {
      const { port } = silent.address() as { port: number };
      const { error, ms } = await timed(openRegistry({ databaseUrl: `postgres://abrcast@127.0.0.1:${port}/abrcast` }));
      assert.ok(error instanceof RegistryUnavailableError, `got ${String(error)}`);
      assert.match(error.message, new RegExp(`^PostgreSQL not reachable at postgres://abrcast@127.0.0.1:${port}/abrcast: .*timeout`));
      assert.ok(ms >= 1000 && ms < 8000, `took ${ms} ms`);
    });
  });
});

describe('openRegistry backend choice', () => {
  let dir: string;
  const savedUrl = process.env.DATABASE_URL;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'abrcast-open-'));
  });
  after(() => {
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
    rmSync(dir, { recursive: true, force: true });
  });

  test('DATABASE_URL is used when no databaseUrl option is given', async () => {
    const port = await closedPort();
    process.env.DATABASE_URL = `postgres://env-user:envpw@127.0.0.1:${port}/envdb`;
    const { error } = await timed(openRegistry({ dataDir: join(dir, 'unused') }));
    assert.ok(error instanceof RegistryUnavailableError);
    assert.match(error.message, new RegExp(`postgres://env-user@127.0.0.1:${port}/envdb`));
  });

  test('an empty databaseUrl selects PGlite in dataDir, migrated and ready', async () => {
    process.env.DATABASE_URL = 'postgres://nobody@127.0.0.1:1/none';
    const registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    try {
      assert.equal(registry.dialect, 'pglite');
      const run = await registry.createRun({ width: 64, height: 64, fps: 25, segmentDuration: 2 });
      assert.equal((await registry.getRun(run.id))?.id, run.id);
    } finally {
      await registry.close();
      await registry.close(); // closing twice is harmless
    }
  });

  test('a PGlite directory that cannot be created is a RegistryUnavailableError', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    await assert.rejects(openPgliteClient(join(file, 'db')), (error: unknown) => {
      assert.ok(error instanceof RegistryUnavailableError);
      assert.match(error.message, /^PGlite database could not be opened at .*a-file\/db: /);
      return true;
    });
  });
});

describe('redactDatabaseUrl', () => {
  test('drops the password from the authority and the query, keeps the rest', () => {
    assert.equal(redactDatabaseUrl('postgres://abrcast:hunter2@db.local:5432/abrcast'), 'postgres://abrcast@db.local:5432/abrcast');
    assert.equal(
      redactDatabaseUrl('postgres://abrcast@127.0.0.1/abrcast?sslmode=require&password=hunter2'),
      'postgres://abrcast@127.0.0.1/abrcast?sslmode=require',
    );
    assert.equal(redactDatabaseUrl('postgres://127.0.0.1:5433/x'), 'postgres://127.0.0.1:5433/x');
  });

  test('masks the password of a keyword/value connection string', () => {
    assert.equal(redactDatabaseUrl('host=127.0.0.1 user=a password=hunter2 dbname=x'), 'host=127.0.0.1 user=a password=*** dbname=x');
  });
});
