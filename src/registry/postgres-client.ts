// PostgreSQL through a `pg` pool, for servers that share one database.
import pg from 'pg';
import { errorDetail, RegistryUnavailableError } from './registry-errors.js';
import type { QueryResult, SqlClient, SqlExecutor } from './sql-client.js';

/** How long to wait for a connection before calling the server unreachable. */
const CONNECT_TIMEOUT_MS = 3000;

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
]);

/** The URL with its password removed, safe for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.searchParams.delete('password');
    // URL keeps a bare ':' only when a password existed; rebuilding avoids "user:@host".
    const auth = parsed.username ? `${parsed.username}@` : '';
    return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${parsed.search}`;
  } catch {
    // Keyword/value connection strings ("host=... password=...") are not URLs.
    return url.replace(/(password\s*=\s*)(?:'[^']*'|\S+)/gi, '$1***');
  }
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  // pg reports its own connect timeout and lost connections without a code.
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
}

function unavailable(safeUrl: string, error: unknown): RegistryUnavailableError {
  return new RegistryUnavailableError(`PostgreSQL not reachable at ${safeUrl}: ${errorDetail(error)}`, { cause: error });
}

class PostgresClient implements SqlClient {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #safeUrl: string;
  #closed = false;

  constructor(pool: pg.Pool, safeUrl: string) {
    this.#pool = pool;
    this.#safeUrl = safeUrl;
  }

  async query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    try {
      const result = await this.#pool.query(text, params as unknown[]);
      return { rows: result.rows as R[] };
    } catch (error) {
      throw isNetworkError(error) ? unavailable(this.#safeUrl, error) : error;
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let connection: pg.PoolClient;
    try {
      connection = await this.#pool.connect();
    } catch (error) {
      throw isNetworkError(error) ? unavailable(this.#safeUrl, error) : error;
    }
    const tx: SqlExecutor = {
      async query<R>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
        const result = await connection.query(text, params as unknown[]);
        return { rows: result.rows as R[] };
      },
    };
    let broken: unknown;
    try {
      await connection.query('BEGIN');
      const value = await fn(tx);
      await connection.query('COMMIT');
      return value;
    } catch (error) {
      try {
        await connection.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError; // the connection is unusable; drop it instead of returning it to the pool
      }
      throw isNetworkError(error) ? unavailable(this.#safeUrl, error) : error;
    } finally {
      connection.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/**
 * Connects a pool to `url` and checks it with one round trip, so an
 * unreachable server fails here (within a few seconds) with a
 * RegistryUnavailableError rather than on the first real query.
 */
export async function openPostgresClient(url: string): Promise<SqlClient> {
  const safeUrl = redactDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 10,
    idleTimeoutMillis: 10_000,
  });
  // An idle client losing its server emits 'error' on the pool; unhandled, that
  // would crash the process. The next query reports the outage instead.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    if (isNetworkError(error)) throw unavailable(safeUrl, error);
    throw new RegistryUnavailableError(`PostgreSQL at ${safeUrl} refused the connection: ${errorDetail(error)}`, {
      cause: error,
    });
  }
  return new PostgresClient(pool, safeUrl);
}
