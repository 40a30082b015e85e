// Makes the PGlite seed (pglite-seed.ts) at build time: `npm run build:ts` runs
// scripts/make-pglite-seed.mjs, which calls this. Build-only: node-tar is a
// devDependency.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Migration, MIGRATIONS, migrate } from './migrations.js';
import { openPgliteClient } from './pglite-client.js';
import {
  installedPgliteVersion,
  migrationDigest,
  SEED_ARCHIVE,
  SEED_FORMAT,
  SEED_MANIFEST,
  type SeedManifest,
} from './pglite-seed.js';

export function seedManifestFor(migrations: readonly Migration[]): SeedManifest {
  return {
    format: SEED_FORMAT,
    pglite: installedPgliteVersion(),
    migrations: migrations.map((m) => ({ version: m.version, digest: migrationDigest(m) })),
  };
}

/** The seed already in `outDir` when it is the one `makePgliteSeed` would make now. */
export function currentSeed(outDir: string, migrations: readonly Migration[] = MIGRATIONS): SeedManifest | undefined {
  try {
    const manifest = readFileSync(join(outDir, SEED_MANIFEST), 'utf8');
    if (!existsSync(join(outDir, SEED_ARCHIVE))) return undefined;
    return manifest === JSON.stringify(seedManifestFor(migrations)) ? (JSON.parse(manifest) as SeedManifest) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs initdb and `migrations` in a scratch directory and writes its gzipped
 * tar and manifest to `outDir` (the archive first, the manifest last, so a
 * manifest always describes the archive beside it).
 */
export async function makePgliteSeed(outDir: string, migrations: readonly Migration[] = MIGRATIONS): Promise<SeedManifest> {
  const scratch = mkdtempSync(join(tmpdir(), 'abrcast-seed-'));
  try {
    const dataDir = join(scratch, 'db');
    const client = await openPgliteClient(dataDir);
    try {
      await migrate(client, migrations);
    } finally {
      await client.close(); // a clean shutdown: the archive needs no recovery
    }
    const { create } = await import('tar');
    await mkdir(outDir, { recursive: true });
    rmSync(join(outDir, SEED_MANIFEST), { force: true });
    const archive = join(outDir, `${SEED_ARCHIVE}.tmp`);
    await create({ file: archive, cwd: dataDir, gzip: { level: 9 }, portable: true, noPax: true }, ['.']);
    renameSync(archive, join(outDir, SEED_ARCHIVE));
    const manifest = seedManifestFor(migrations);
    writeFileSync(join(outDir, SEED_MANIFEST), JSON.stringify(manifest));
    return manifest;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
