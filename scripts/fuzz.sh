#!/usr/bin/env bash
# Fuzzes the file-input path (native/fuzz/file-input-fuzzer.cc) with libFuzzer under
# AddressSanitizer and UndefinedBehaviorSanitizer for a set time, starting from the seed
# corpus (scripts/make-fuzz-corpus.sh) and the regression inputs. New inputs go to
# build-fuzz/corpus, crashes and hangs to build-fuzz/findings/: turn each into a file in
# test/fixtures/fuzz-regressions/ (replayed by `npm test`) together with its fix.
#   scripts/fuzz.sh [seconds]   (default 1800; `npm run fuzz`)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
bash scripts/build-fuzzer.sh
mkdir -p build-fuzz/corpus build-fuzz/findings
cp -n test/fixtures/fuzz-corpus/* test/fixtures/fuzz-regressions/* build-fuzz/corpus/ 2>/dev/null || true
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
started=$(date +%s)
status=0
nice -n 15 build-fuzz/file-input-fuzzer build-fuzz/corpus \
  -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 -max_len=131072 \
  -artifact_prefix=build-fuzz/findings/ -print_final_stats=1 || status=$?
echo "fuzzed for $(( $(date +%s) - started )) s; exit status $status; findings: $(ls build-fuzz/findings | wc -l)"
exit "$status"
