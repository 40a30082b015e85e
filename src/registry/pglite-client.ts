// Embedded PostgreSQL (PGlite, WASM) in a data directory: the default backend,
// so a registry works with no server to install or run.
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { errorDetail, RegistryUnavailableError } from './registry-errors.js';
import type { QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

/** Where the registry keeps its data when no directory is given: `~/.abrcast/db`. */
export function defaultDatabaseDir(): string {
  return join(homedir(), '.abrcast', 'db');
}

const IN_MEMORY = 'memory://';

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

  constructor(db: PGlite) {
    this.#db = db;
    this.#executor = executorOf(db);
  }

  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.#executor.query<R>(text, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction((tx) => fn(executorOf(tx)));
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
export async function openPgliteClient(dataDir: string = defaultDatabaseDir()): Promise<SqlClient> {
  const inMemory = dataDir === IN_MEMORY;
  const location = inMemory ? dataDir : resolve(dataDir);
  try {
    if (!inMemory) await mkdir(location, { recursive: true });
    const db = await PGlite.create(inMemory ? undefined : location);
    return new PgliteClient(db);
  } catch (error) {
    throw new RegistryUnavailableError(`PGlite database could not be opened at ${location}: ${errorDetail(error)}`, {
      cause: error,
    });
  }
}
