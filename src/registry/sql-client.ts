// The one SQL surface the registry talks to. Both backends (PostgreSQL through
// `pg`, embedded PGlite) implement it, so every statement is written once.
// All SQL is parameterized ($1, $2 ...); values never go into the text.

export type SqlDialect = 'postgres' | 'pglite';

export interface QueryResult<R> {
  rows: R[];
}

/** Runs statements; a transaction hands one of these to its callback. */
export interface SqlExecutor {
  /** One statement. `params` fill $1, $2 ... in order. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface SqlClient extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs `fn` inside BEGIN/COMMIT on one connection; any throw rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: LISTEN on `channel` over a dedicated connection, calling
   * `onPayload` for each NOTIFY and `onConnected` each time LISTEN is (again)
   * in force; reconnects on its own after an error. PGlite has none: one
   * process owns it, so the registry notifies in process.
   */
  listen?(channel: string, onPayload: (payload: string) => void, onConnected: () => void): Subscription;
  /**
   * One round trip that proves the database answers, on a path of its own
   * (PostgreSQL: a dedicated connection, never queued behind the pool), so a
   * health check reflects the database, not the load on the pool.
   */
  ping(): Promise<void>;
  /** Releases the connection pool or embedded database. Safe to call twice. */
  close(): Promise<void>;
}

export interface Subscription {
  close(): Promise<void>;
}
