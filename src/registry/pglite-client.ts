// Embedded PostgreSQL (PGlite, WASM) in a data directory: the default backend,
// so a registry works with no server to install or run.
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { errorMessage, invalidParameterError, isInteger } from '../errors.js';
import { RegistryUnavailableError } from './registry-errors.js';
import type { QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

/** Where the registry keeps its data when no directory is given: `~/.abrcast/db`. */
export function defaultDatabaseDir(): string {
  return join(homedir(), '.abrcast', 'db');
}

const IN_MEMORY = 'memory://';

/**
 * The longest a caller waits for PGlite, like PostgreSQL's query_timeout.
 * PGlite runs statements one at a time in this process, so one stuck
 * statement would hold every later call; past this the caller gets a
 * transient error to retry, while the statement itself runs on (it cannot be
 * cancelled, and may still commit: registry writes are idempotent for that).
 */
export const PGLITE_WAIT_TIMEOUT_MS = 15_000;

/**
 * Added to PGlite's own start parameters. PostgreSQL's default shared_buffers
 * (128 MB) is resident from the start in PGlite, whose allocator zero-fills
 * it; a registry's working set is a few MB, and the OS file cache holds the
 * rest. docs/performance.md has the RSS with each.
 */
export const PGLITE_START_PARAMS: readonly string[] = ['-c', 'shared_buffers=8MB'];

export interface PgliteClientOptions {
  /** Default PGLITE_WAIT_TIMEOUT_MS. */
  waitTimeoutMs?: number;
  /**
   * A new database starts from the build's pre-initialised data directory
   * (pglite-seed.ts: the schema of the migrations known at build time) instead
   * of an empty initdb, when that seed fits this PGlite and these migrations:
   * for a caller that migrates next, as openRegistry does. Default false.
   */
  seeded?: boolean;
}

function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RegistryUnavailableError(`PGlite did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function executorOf(target: PGlite | Transaction): SqlExecutor {
  return {
    async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await target.query<R>(text, params as unknown[]);
      return { rows: result.rows };
    },
  };
}

class PgliteClient implements SqlClient {
  readonly dialect = 'pglite' as const;
  readonly #db: PGlite;
  readonly #executor: SqlExecutor;
  readonly #waitTimeoutMs: number;

  constructor(db: PGlite, waitTimeoutMs: number) {
    this.#db = db;
    this.#executor = executorOf(db);
    this.#waitTimeoutMs = waitTimeoutMs;
  }

  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return bounded(this.#executor.query<R>(text, params), this.#waitTimeoutMs);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return bounded(this.#db.transaction((tx) => fn(executorOf(tx))), this.#waitTimeoutMs);
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
  }
}

/**
 * Opens (creating when missing) a PGlite database in `dataDir`, default
 * `~/.abrcast/db`; `memory://` keeps it in memory. Only one process may have a
 * given directory open at a time.
 */
export async function openPgliteClient(dataDir: string = defaultDatabaseDir(), options: PgliteClientOptions = {}): Promise<SqlClient> {
  const { waitTimeoutMs = PGLITE_WAIT_TIMEOUT_MS, seeded = false } = options;
  if (!isInteger(waitTimeoutMs) || waitTimeoutMs < 1) {
    throw invalidParameterError('waitTimeoutMs', 'positive integer of milliseconds', waitTimeoutMs);
  }
  const inMemory = dataDir === IN_MEMORY;
  const location = inMemory ? dataDir : resolve(dataDir);
  try {
    let loadDataDir: Blob | undefined;
    if (seeded) {
      const { isNewDirectory, unpackSeed, usableSeed } = await import('./pglite-seed.js');
      const seed = usableSeed();
      if (seed && inMemory) loadDataDir = new Blob([await readFile(seed.archive)], { type: 'application/gzip' });
      else if (seed && (await isNewDirectory(location))) await unpackSeed(seed, location);
    }
    if (!inMemory) await mkdir(location, { recursive: true });
    // Loaded on use: PostgreSQL users and the encoder alone never load PGlite's WASM.
    const { PGlite: PGliteClass } = await import('@electric-sql/pglite');
    const db = await PGliteClass.create({
      dataDir: inMemory ? undefined : location,
      loadDataDir,
      startParams: [...PGliteClass.defaultStartParams, ...PGLITE_START_PARAMS],
    });
    return new PgliteClient(db, waitTimeoutMs);
  } catch (error) {
    throw new RegistryUnavailableError(`PGlite database could not be opened at ${location}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
