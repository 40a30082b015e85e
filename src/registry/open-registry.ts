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

export async function openSqlClient(options: OpenRegistryOptions = {}): Promise<SqlClient> {
  const url = options.databaseUrl === undefined ? process.env.DATABASE_URL : options.databaseUrl;
  return url ? openPostgresClient(url) : openPgliteClient(options.dataDir);
}

export async function openRegistry(options: OpenRegistryOptions = {}): Promise<RunRegistry> {
  const client = await openSqlClient(options);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return new RunRegistry(client);
}
