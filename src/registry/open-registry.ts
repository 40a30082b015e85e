// One entry point for the server and CLI: PostgreSQL when a URL is configured,
// embedded PGlite otherwise, with the schema brought up to date either way.
import { migrate } from './migrations.js';
import { openPgliteClient } from './pglite-client.js';
import { openPostgresClient } from './postgres-client.js';
import { RunRegistry } from './run-registry.js';
import type { SqlClient } from './sql-client.js';

export interface OpenRegistryOptions {
  /**
   * PostgreSQL URL. When undefined, the DATABASE_URL environment variable is
   * used; an empty string (or no DATABASE_URL) selects PGlite.
   */
  databaseUrl?: string;
  /** PGlite data directory (default `~/.abrcast/db`; `memory://` for in-memory). Ignored for PostgreSQL. */
  dataDir?: string;
}

function open(options: OpenRegistryOptions, seeded: boolean): Promise<SqlClient> {
  const url = options.databaseUrl === undefined ? process.env.DATABASE_URL : options.databaseUrl;
  return url ? openPostgresClient(url) : openPgliteClient(options.dataDir, { seeded });
}

/** The backend's SQL client; a new PGlite database is empty (initdb), not yet migrated. */
export async function openSqlClient(options: OpenRegistryOptions = {}): Promise<SqlClient> {
  return open(options, false);
}

export async function openRegistry(options: OpenRegistryOptions = {}): Promise<RunRegistry> {
  // It migrates next, so a new PGlite database may start from the build's seed.
  const client = await open(options, true);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return new RunRegistry(client);
}
