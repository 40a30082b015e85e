// An SqlClient that records every statement it runs: the registry's only way to
// the database, so a test can count what a request costs in SQL, whatever the
// machine's load.
import type { SqlClient } from '../../src/registry/index.js';

export type CountingSqlClient = SqlClient & { statements: string[] };

export function countingClient(inner: SqlClient): CountingSqlClient {
  const statements: string[] = [];
  return {
    dialect: inner.dialect,
    statements,
    query(text, params) {
      statements.push(text);
      return inner.query(text, params);
    },
    transaction(fn) {
      return inner.transaction((tx) => fn({ query: (text, params) => (statements.push(text), tx.query(text, params)) }));
    },
    ...(inner.listen ? { listen: inner.listen.bind(inner) } : {}),
    ping() {
      statements.push('-- ping');
      return inner.ping();
    },
    close: () => inner.close(),
  };
}
