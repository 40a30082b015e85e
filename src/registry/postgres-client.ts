// PostgreSQL through a `pg` pool, for servers that share one database.
import type pg from 'pg';
import { errorMessage, invalidParameterError, isInteger } from '../errors.js';
import { isConnectionError, RegistryUnavailableError } from './registry-errors.js';
import type { QueryResult, SqlClient, SqlExecutor, Subscription } from './sql-client.js';

/** How long to wait for a connection before calling the server unreachable. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Server-side cap on one statement, and the client-side wait for an answer
 * (longer, so the server normally reports first). With them a hung or
 * half-dead server fails a call in seconds, which a caller can retry, instead
 * of holding it for ever.
 */
export const STATEMENT_TIMEOUT_MS = 10_000;
export const QUERY_TIMEOUT_MS = 15_000;
/** TCP keepalive probes start after this long idle, so a dead peer is noticed on idle pool connections. */
const KEEPALIVE_DELAY_MS = 10_000;
/** What pg_stat_activity shows for our connections. */
export const APPLICATION_NAME = 'abrcast';

export interface PostgresClientOptions {
  /** Default STATEMENT_TIMEOUT_MS. */
  statementTimeoutMs?: number;
  /** Default QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number;
}

function requirePositiveInteger(name: string, value: unknown): void {
  if (!isInteger(value) || value < 1) throw invalidParameterError(name, 'positive integer of milliseconds', value);
}

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

function unavailable(safeUrl: string, error: unknown): RegistryUnavailableError {
  return new RegistryUnavailableError(`PostgreSQL not reachable at ${safeUrl}: ${errorMessage(error)}`, { cause: error });
}

/** Reconnect delays of the LISTEN connection: doubling from the first to the last. */
const LISTEN_RETRY_MS = [100, 3000] as const;

/**
 * LISTEN on a connection of its own (a pooled one would drop it on release),
 * reconnecting with backoff whenever it fails, until closed.
 */
function listenForever(
  Client: typeof pg.Client,
  config: pg.ClientConfig,
  channel: string,
  onPayload: (payload: string) => void,
  onConnected: () => void,
): Subscription {
  let closed = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay: number = LISTEN_RETRY_MS[0];
  const retry = () => {
    if (closed || timer) return;
    client?.removeAllListeners();
    client?.on('error', () => {});
    client?.end().catch(() => {});
    client = undefined;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, LISTEN_RETRY_MS[1]);
  };
  const connect = async () => {
    const next = new Client(config);
    client = next;
    next.on('error', retry);
    next.on('end', retry);
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
    });
    try {
      await next.connect();
      // Quoted identifier: the channel is a constant of ours, never input.
      await next.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
      if (closed || client !== next) return;
      delay = LISTEN_RETRY_MS[0];
      onConnected();
    } catch {
      if (client === next) retry();
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const last = client;
      client = undefined;
      last?.removeAllListeners();
      last?.on('error', () => {});
      await last?.end().catch(() => {});
    },
  };
}

class PostgresClient implements SqlClient {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #safeUrl: string;
  readonly #config: pg.ClientConfig;
  readonly #Client: typeof pg.Client;
  readonly #subscriptions = new Set<Subscription>();
  /** ping()'s own connection, opened on first use and replaced after a failure. */
  #pingClient: Promise<pg.Client> | undefined;
  #closed = false;

  /** `Client`: pg's connection class, for the LISTEN connection (passed in, as pg is the caller's import). */
  constructor(pool: pg.Pool, safeUrl: string, config: pg.ClientConfig, Client: typeof pg.Client) {
    this.#pool = pool;
    this.#safeUrl = safeUrl;
    this.#config = config;
    this.#Client = Client;
  }

  listen(channel: string, onPayload: (payload: string) => void, onConnected: () => void): Subscription {
    const subscription = listenForever(this.#Client, this.#config, channel, onPayload, onConnected);
    this.#subscriptions.add(subscription);
    return {
      close: async () => {
        this.#subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  async query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    try {
      const result = await this.#pool.query(text, params as unknown[]);
      return { rows: result.rows as R[] };
    } catch (error) {
      throw isConnectionError(error) ? unavailable(this.#safeUrl, error) : error;
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let connection: pg.PoolClient;
    try {
      connection = await this.#pool.connect();
    } catch (error) {
      throw isConnectionError(error) ? unavailable(this.#safeUrl, error) : error;
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
      throw isConnectionError(error) ? unavailable(this.#safeUrl, error) : error;
    } finally {
      connection.release(broken instanceof Error ? broken : undefined);
    }
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new RegistryUnavailableError('PostgreSQL client is closed');
    this.#pingClient ??= (async () => {
      const client = new this.#Client(this.#config);
      client.on('error', () => {}); // reported by the next ping's query
      await client.connect();
      return client;
    })();
    const connecting = this.#pingClient;
    try {
      await (await connecting).query('SELECT 1');
    } catch (error) {
      if (this.#pingClient === connecting) this.#pingClient = undefined;
      void connecting.then((client) => client.end()).catch(() => {});
      throw isConnectionError(error) ? unavailable(this.#safeUrl, error) : error;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ping = this.#pingClient;
    this.#pingClient = undefined;
    await ping?.then((client) => client.end()).catch(() => {});
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#pool.end();
  }
}

/**
 * Connects a pool to `url` and checks it with one round trip, so an
 * unreachable server fails here (within a few seconds) with a
 * RegistryUnavailableError rather than on the first real query.
 */
export async function openPostgresClient(url: string, options: PostgresClientOptions = {}): Promise<SqlClient> {
  const { statementTimeoutMs = STATEMENT_TIMEOUT_MS, queryTimeoutMs = QUERY_TIMEOUT_MS } = options;
  requirePositiveInteger('statementTimeoutMs', statementTimeoutMs);
  requirePositiveInteger('queryTimeoutMs', queryTimeoutMs);
  const safeUrl = redactDatabaseUrl(url);
  // Loaded on use: the PGlite default and the encoder alone never load pg.
  const { default: pgModule } = await import('pg');
  const config: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    statement_timeout: statementTimeoutMs,
    query_timeout: queryTimeoutMs,
    application_name: APPLICATION_NAME,
  };
  const pool = new pgModule.Pool({ ...config, max: 10, idleTimeoutMillis: 10_000 });
  // An idle client losing its server emits 'error' on the pool; unhandled, that
  // would crash the process. The next query reports the outage instead.
  pool.on('error', () => {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    if (isConnectionError(error)) throw unavailable(safeUrl, error);
    throw new RegistryUnavailableError(`PostgreSQL at ${safeUrl} refused the connection: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return new PostgresClient(pool, safeUrl, config, pgModule.Client);
}
