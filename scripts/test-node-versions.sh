#!/usr/bin/env bash
# Runs the install test and the core suites (encoder, store, publish, registry, server) under Node 22
# and 24: the official binaries (scripts/install-node.sh), first on PATH, so the test runner, npm and
# every child process (`abrcast demo` from the packed tarball, the CLI tests) run on that version.
# Node 20, the machine's own, runs the whole of `npm test`. The addon is the same N-API 8 binary for all.
#   bash scripts/test-node-versions.sh                       # 22 and 24, the short set (CI)
#   bash scripts/test-node-versions.sh 24                    # one version
#   bash scripts/test-node-versions.sh 22 24 -- test/store   # other test files
set -euo pipefail
cd "$(dirname "$0")/.."

majors=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do majors+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
# What each layer's own tests need of Node: the prebuild installed from the tarball (npm, node-gyp-build),
# N-API calls and worker threads (encoder), fs and Helia/libp2p (store), the journal and upload queue
# (publish), PGlite (registry), node:http (server), a CLI run end to end.
tests=(test/install/prebuild.test.ts
  test/encoder/ladder.test.ts test/encoder/segments.test.ts test/encoder/lifecycle.test.ts
  test/store/roundtrip.test.ts test/store/helia-bitswap.test.ts
  test/publish/hls-output.test.ts test/publish/crash-resume.test.ts
  test/registry/run-registry.test.ts
  test/server/routes.test.ts test/server/live-http.test.ts
  test/cli/encode.test.ts)
[ $# -gt 0 ] && tests=("$@")

for major in "${majors[@]}"; do
  node_bin=$(bash scripts/install-node.sh linux-x64 "$major")
  started=$(date +%s)
  echo "==> Node $("$node_bin" --version): ${tests[*]}"
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" scripts/run-tests.mjs "${tests[@]}"
  echo "==> Node $major passed in $(( $(date +%s) - started ))s"
done
