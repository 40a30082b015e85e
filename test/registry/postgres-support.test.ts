// The throwaway cluster of test/support/postgres.ts must never outlive its test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../support/postgres.js';

const execFileAsync = promisify(execFile);

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('startPostgres serves an empty database on loopback; stop() shuts it down and removes its directory', async () => {
  const server = await startPostgres();
  try {
    assert.match(server.url, /^postgres:\/\/abrcast@127\.0\.0\.1:\d+\/abrcast$/);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string; tables: string; fsync: string }>(
        `SELECT current_setting('server_version_num') AS version,
                (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public') AS tables,
                current_setting('fsync') AS fsync`,
      );
      assert.equal(rows[0].version.slice(0, 2), '15');
      assert.equal(Number(rows[0].tables), 0);
      assert.equal(rows[0].fsync, 'off');
    } finally {
      await client.end();
    }
    assert.ok(existsSync(server.dir));
  } finally {
    await server.stop();
  }
  assert.equal(existsSync(server.dir), false);
  assert.equal(await portAccepts(server.port), false);
  await server.stop(); // twice is harmless
});

test('a test process that exits without stop() still stops its cluster', async () => {
  const supportUrl = new URL('../support/postgres.ts', import.meta.url).href;
  const script = `
    const { startPostgres } = await import(${JSON.stringify(supportUrl)});
    const server = await startPostgres();
    console.log(JSON.stringify({ dir: server.dir, port: server.port }));
    process.exit(0);
  `;
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 60_000,
  });
  const { dir, port } = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { dir: string; port: number };
  assert.ok(dir && port, `child printed ${stdout}`);
  assert.equal(existsSync(dir), false);
  assert.equal(await portAccepts(port), false);
});
