#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster (the one the tests use) and prints
# its DATABASE_URL; Ctrl-C stops it and deletes its data. For trying
# `abrcast` against a real server by hand:
#   bash scripts/start-postgres.sh      # then, in another shell: DATABASE_URL=... abrcast ...
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx --input-type=module -e '
const { startPostgres } = await import("./test/support/postgres.ts");
const server = await startPostgres();
console.log(`DATABASE_URL=${server.url}`);
console.log("PostgreSQL is running; press Ctrl-C to stop it and delete its data.");
setInterval(() => {}, 1 << 30);
'
