// The embedded registry's light default: a new PGlite database starts from the
// build's pre-initialised data directory (the seed) and is migrated forward
// from there, with a small shared_buffers, so opening one costs a fraction of
// initdb's memory. The seed is made by `npm run build:ts`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, Header } from 'tar';
import { type Migration, MIGRATIONS, migrate, openPgliteClient, openRegistry } from '../../src/registry/index.js';
import {
  installedPgliteVersion,
  migrationDigest,
  SEED_DIR,
  SEED_FORMAT,
  seedFits,
  type SeedManifest,
  unpackSeed,
  usableSeed,
} from '../../src/registry/pglite-seed.js';
import { extractTar } from '../../src/registry/tar-extract.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function manifestOf(migrations: readonly Migration[], pglite = installedPgliteVersion()): SeedManifest {
  return { format: SEED_FORMAT, pglite, migrations: migrations.map((m) => ({ version: m.version, digest: migrationDigest(m) })) };
}

const PROBE: Migration = {
  version: MIGRATIONS[MIGRATIONS.length - 1].version + 1,
  name: 'a migration newer than the seed',
  statements: ['CREATE TABLE seed_probe (id integer PRIMARY KEY)'],
};

describe('which seed fits', () => {
  const pglite = installedPgliteVersion();

  test('the same PGlite and migrations, or migrations the code has added since', () => {
    assert.equal(seedFits(manifestOf(MIGRATIONS), pglite, MIGRATIONS), true);
    assert.equal(seedFits(manifestOf(MIGRATIONS.slice(0, 2)), pglite, MIGRATIONS), true);
  });

  test('not another PGlite, a changed migration, a newer schema or another format', () => {
    assert.equal(seedFits(manifestOf(MIGRATIONS, '0.0.1'), pglite, MIGRATIONS), false);
    const changed = MIGRATIONS.map((m, i) => (i === 1 ? { ...m, statements: [...m.statements, 'SELECT 1'] } : m));
    assert.equal(seedFits(manifestOf(changed), pglite, MIGRATIONS), false);
    assert.equal(seedFits(manifestOf([...MIGRATIONS, PROBE]), pglite, MIGRATIONS), false);
    assert.equal(seedFits({ ...manifestOf(MIGRATIONS), format: SEED_FORMAT + 1 }, pglite, MIGRATIONS), false);
  });

  test('the build made a seed, and it is current with src/registry/migrations.ts', () => {
    const seed = usableSeed();
    assert.ok(seed, `no usable seed in ${SEED_DIR}: run npm run build:ts`);
    assert.deepEqual(seed.manifest, manifestOf(MIGRATIONS), `the seed in ${SEED_DIR} is older than the migrations: run npm run build:ts`);
  });
});

describe('a new PGlite database from the seed', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'abrcast-seed-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('starts at the seed schema, and a later migration is applied on top', async () => {
    const client = await openPgliteClient(join(dir, 'db'), { seeded: true });
    try {
      // Before any migrate(): only a database unpacked from the seed has these rows (initdb's has no table).
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), usableSeed()!.manifest.migrations.map((m) => m.version));
      assert.deepEqual(await migrate(client, [...MIGRATIONS, PROBE]), [PROBE.version]);
      await client.query('INSERT INTO seed_probe (id) VALUES (1)');
      await client.query("INSERT INTO runs (id, width, height, fps, segment_duration) VALUES ('from-seed', 64, 64, 30, 2)");
    } finally {
      await client.close();
    }
    const reopened = await openPgliteClient(join(dir, 'db'), { seeded: true });
    try {
      const { rows } = await reopened.query<{ id: string }>('SELECT id FROM runs');
      assert.deepEqual(rows, [{ id: 'from-seed' }], 'a reopened database is its own, not a new seed');
    } finally {
      await reopened.close();
    }
  });

  test('openRegistry in memory starts from the seed too', async () => {
    const registry = await openRegistry({ databaseUrl: '', dataDir: 'memory://' });
    try {
      const run = await registry.createRun({ width: 64, height: 64, fps: 25, segmentDuration: 2 });
      assert.equal((await registry.getRun(run.id))?.id, run.id);
    } finally {
      await registry.close();
    }
  });

  test('a directory that is not empty is never replaced by the seed', async () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'mine');
    assert.equal(await unpackSeed(usableSeed()!, target), false);
    assert.deepEqual(readdirSync(target), ['keep.txt']);
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('.seed-')), [], 'no staging directory left behind');
  });

  // On Liftoff, as the CLI runs it (src/cli/wasm-tiering.ts): TurboFan's share of the RSS varies with
  // how much of PGlite turns hot before the peak (50-60 MB), Liftoff's does not.
  test('a fresh open in a new process holds under 150 MB RSS (initdb added ~800 MB)', async () => {
    // The built registry, as the CLI runs it (no transform in the process). What the open holds once
    // done and collected: its peak depends on when V8 collects the seed's and WASM's garbage, 101 to
    // 242 MB over the same open on this machine, so the peak is only reported.
    const built = join(REPO_ROOT, 'dist/registry/index.js');
    const entry = existsSync(built) ? built : join(REPO_ROOT, 'src/registry/index.ts');
    const script = `
      const { openRegistry } = await import(${JSON.stringify(entry)});
      globalThis.gc();
      const before = process.memoryUsage().rss;
      const registry = await openRegistry({ databaseUrl: '', dataDir: ${JSON.stringify(join(dir, 'child-db'))} });
      await registry.createRun({ width: 64, height: 64, fps: 25, segmentDuration: 2 });
      globalThis.gc();
      const held = process.memoryUsage().rss;
      const peak = process.resourceUsage().maxRSS * 1024;
      await registry.close();
      console.log(JSON.stringify({ before, held, peak }));
    `;
    const loader = entry === built ? [] : ['--import', 'tsx'];
    const child = spawn(process.execPath, ['--liftoff-only', '--expose-gc', ...loader, '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0, stderr);
    const { before, held, peak } = JSON.parse(stdout) as { before: number; held: number; peak: number };
    const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
    const added = (held - before) / 1048576;
    assert.ok(added < 150, `holds ${mb(held)} MB, ${added.toFixed(0)} MB over the ${mb(before)} MB before the open (peak ${mb(peak)} MB)`);
  });
});

describe('extractTar', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'abrcast-tar-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('restores what node-tar packed, leaving a long zero tail as a hole', async () => {
    const source = join(dir, 'source');
    mkdirSync(join(source, 'base', '5'), { recursive: true });
    writeFileSync(join(source, 'PG_VERSION'), '17\n');
    const wal = Buffer.alloc(1 << 20);
    wal.write('record', 1000);
    writeFileSync(join(source, 'base', '5', 'wal'), wal);
    writeFileSync(join(source, 'base', '5', 'empty'), '');
    const archive = join(dir, 'a.tar');
    await create({ file: archive, cwd: source, portable: true, noPax: true }, ['.']);

    const target = join(dir, 'target');
    extractTar(readFileSync(archive), target);
    assert.equal(readFileSync(join(target, 'PG_VERSION'), 'utf8'), '17\n');
    assert.deepEqual(readFileSync(join(target, 'base', '5', 'wal')), wal);
    assert.equal(readFileSync(join(target, 'base', '5', 'empty')).length, 0);
    const stat = statSync(join(target, 'base', '5', 'wal'));
    assert.ok(stat.blocks * 512 < wal.length / 2, `${stat.blocks} blocks allocated for a mostly zero 1 MiB file`);
  });

  function archiveOf(...entries: { path: string; type?: string; body?: string }[]): Buffer {
    const blocks: Buffer[] = [];
    for (const entry of entries) {
      const body = Buffer.from(entry.body ?? '');
      const header = new Header({ path: entry.path, type: (entry.type ?? 'File') as 'File', size: body.length, mode: 0o644 });
      const block = Buffer.alloc(512);
      header.encode(block);
      blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
    return Buffer.concat([...blocks, Buffer.alloc(1024)]);
  }

  test('refuses a path out of the target, a link, a damaged header and a truncated archive', () => {
    assert.throws(() => extractTar(archiveOf({ path: '../escape', body: 'x' }), join(dir, 't1')), /leaves the target directory/);
    assert.throws(() => extractTar(archiveOf({ path: '/etc/escape', body: 'x' }), join(dir, 't2')), /leaves the target directory/);
    assert.throws(() => extractTar(archiveOf({ path: 'link', type: 'SymbolicLink' }), join(dir, 't3')), /only files and directories/);
    const damaged = archiveOf({ path: 'a', body: 'x' });
    damaged[0] ^= 1;
    assert.throws(() => extractTar(damaged, join(dir, 't4')), /damaged header at byte 0/);
    const whole = archiveOf({ path: 'a', body: 'x'.repeat(600) });
    assert.throws(() => extractTar(whole.subarray(0, 700), join(dir, 't5')), /runs past the end/);
    assert.throws(() => extractTar(whole.subarray(0, 1536), join(dir, 't6')), /ends without its end-of-archive blocks/);
  });
});
