// A pre-initialised PGlite data directory ("the seed"), made when abrcast is
// built (initdb, then every migration known then) and unpacked into a new data
// directory. Creating a database the ordinary way runs initdb in a second PGlite
// beside initdb's own WASM instance: 3–5 s and ~800 MB RSS for a newcomer's
// first `abrcast demo`. Unpacking costs a tenth of that. docs/performance.md has
// the figures; pglite-seed-maker.ts makes the seed.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { AbrcastError, errorMessage } from '../errors.js';
import { type Migration, MIGRATIONS } from './migrations.js';
import { TarExtractor } from './tar-extract.js';

/** dist/pglite-seed: the same folder seen from src/registry (tests) and dist/registry. */
export const SEED_DIR = fileURLToPath(new URL('../../dist/pglite-seed/', import.meta.url));
export const SEED_ARCHIVE = 'data.tar.gz';
export const SEED_MANIFEST = 'manifest.json';
/** Bumped when the seed's layout or the way it is made changes. */
export const SEED_FORMAT = 1;

export interface SeedManifest {
  format: number;
  /** The @electric-sql/pglite version that made it: its PostgreSQL reads only its own catalog version. */
  pglite: string;
  /** The migrations applied, in order. */
  migrations: { version: number; digest: string }[];
}

export interface Seed {
  manifest: SeedManifest;
  /** Path of the gzipped tar of the data directory. */
  archive: string;
}

/** What a migration does, as a short hash: a seed made with one list fits another only where these agree. */
export function migrationDigest(migration: Migration): string {
  return createHash('sha256').update(JSON.stringify([migration.version, migration.statements])).digest('hex').slice(0, 16);
}

let pgliteVersion: string | undefined;

/** The version of the @electric-sql/pglite this process loads. */
export function installedPgliteVersion(): string {
  if (pgliteVersion === undefined) {
    // The package's exports hide package.json; its entry point sits in <package>/dist.
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    pgliteVersion = manifest.version;
  }
  return pgliteVersion;
}

/**
 * Whether a seed can start a database for this PGlite and these migrations:
 * made by the same PGlite, and its migrations the same as the first of these
 * (the rest are applied after unpacking, as on any older database).
 */
export function seedFits(manifest: SeedManifest, pglite: string, migrations: readonly Migration[]): boolean {
  if (manifest.format !== SEED_FORMAT || manifest.pglite !== pglite) return false;
  if (manifest.migrations.length > migrations.length) return false;
  return manifest.migrations.every(
    (applied, i) => applied.version === migrations[i].version && applied.digest === migrationDigest(migrations[i]),
  );
}

/** The build's seed when there is one that fits; undefined sends the caller to initdb. */
export function usableSeed(seedDir: string = SEED_DIR, migrations: readonly Migration[] = MIGRATIONS): Seed | undefined {
  let manifest: SeedManifest;
  try {
    manifest = JSON.parse(readFileSync(join(seedDir, SEED_MANIFEST), 'utf8')) as SeedManifest;
  } catch {
    return undefined; // not built (tsc alone), or unreadable: initdb still works
  }
  const archive = join(seedDir, SEED_ARCHIVE);
  if (!seedFits(manifest, installedPgliteVersion(), migrations) || !existsSync(archive)) return undefined;
  return { manifest, archive };
}

/** True when `dir` does not exist or is an empty directory: the only places a seed may go. */
export async function isNewDirectory(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/**
 * Unpacks the seed as `dir`, which must be new (isNewDirectory). It is unpacked
 * beside `dir` and renamed into place, so a crash never leaves half a database
 * where PGlite would take it for a whole one. Returns false, leaving `dir` as
 * it is, when `dir` stopped being new meanwhile (another process got there first).
 */
export async function unpackSeed(seed: Seed, dir: string): Promise<boolean> {
  await mkdir(dirname(dir), { recursive: true });
  const staging = `${dir}.seed-${process.pid}-${Date.now()}`;
  try {
    const extractor = new TarExtractor(staging);
    try {
      await pipeline(createReadStream(seed.archive), createGunzip({ chunkSize: 256 * 1024 }), async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) extractor.write(chunk);
      });
      extractor.end();
    } finally {
      extractor.abort();
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new AbrcastError(`PGlite seed ${seed.archive} could not be unpacked: ${errorMessage(error)}`, { cause: error });
  }
  try {
    // An empty directory goes first: renaming onto one works on POSIX but not on Windows.
    await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') && !(await isNewDirectory(dir))) return false;
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
