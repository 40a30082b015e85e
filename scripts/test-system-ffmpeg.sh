#!/usr/bin/env bash
# Builds the addon from source against another Debian suite's own FFmpeg, inside a root made by
# scripts/debian-root.sh (trixie: FFmpeg 7.1; sid: the newest Debian ships), and runs the encoder,
# segment and audio tests there with that suite's nodejs and ffprobe: the source build a user of that
# distribution gets, built, linked and run, not only compiled against headers (scripts/check-ffmpeg-api.sh).
#   bash scripts/test-system-ffmpeg.sh trixie              # the short set (CI)
#   bash scripts/test-system-ffmpeg.sh sid --full          # every test file in test/encoder (but Chromium's)
#   bash scripts/test-system-ffmpeg.sh trixie test/encoder/audio.test.ts
# The build goes to .tools/system-ffmpeg-<suite>/ (build/ of this checkout stays as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:-trixie}"
shift || true

# Encoder (ladder, GOP, segment cutting, containers, LL parts, audio, file input): what depends on FFmpeg.
tests=(test/encoder/ladder.test.ts test/encoder/segments.test.ts test/encoder/audio.test.ts
  test/encoder/file-input.test.ts test/encoder/parts.test.ts test/encoder/lifecycle.test.ts)
if [ "${1:-}" = --full ]; then
  # Every encoder test but the one that plays fMP4 in Chromium (not in the root; it runs in npm test).
  mapfile -t tests < <(ls test/encoder/*.test.ts | grep -v '/fmp4-browser\.test\.ts$')
elif [ $# -gt 0 ]; then
  tests=("$@")
fi

bash scripts/debian-root.sh "$suite"
started=$(date +%s)
build_dir=".tools/system-ffmpeg-$suite"
addon="$(pwd)/$build_dir/Release/abrcast.node"
[ -f dist/index.js ] || npm run build:ts >/dev/null

# The suite's cmake, compiler, pkg-config and FFmpeg; cmake-js and the Node-API headers from node_modules.
# -Werror: a deprecation warning from a newer FFmpeg is a failure here, to be fixed with a version check.
bash scripts/debian-root.sh "$suite" --run sh -c '
  set -e
  node node_modules/cmake-js/bin/cmake-js compile --log-level warn --out "$1" --CDCMAKE_CXX_FLAGS=-Werror >"$1.log" 2>&1 ||
    { tail -60 "$1.log"; exit 1; }
' sh "$build_dir"
echo "==> built $build_dir/Release/abrcast.node against $suite's FFmpeg in $(( $(date +%s) - started ))s"

# It must be built against the suite's FFmpeg (a stray other FFmpeg would hide a break); "ffmpeg" is
# the version of the libavutil loaded at run time.
versions=$(bash scripts/debian-root.sh "$suite" --run env ABRCAST_NATIVE_PATH="$addon" node --input-type=module -e '
  const { loadNativeAddon } = await import(process.cwd() + "/dist/native/binding.js");
  console.log(JSON.stringify({ node: process.version, ...loadNativeAddon().ffmpegVersions() }));
')
expected=$(bash scripts/debian-root.sh "$suite" --run pkg-config --modversion libavcodec)
echo "==> in the $suite root: $versions (pkg-config libavcodec $expected)"
echo "$versions" | grep -q "\"libavcodec\":\"$expected\"" ||
  { echo "FAIL: the addon does not report libavcodec $expected: $versions" >&2; exit 1; }

bash scripts/debian-root.sh "$suite" --run env ABRCAST_NATIVE_PATH="$addon" node scripts/run-tests.mjs "${tests[@]}"
echo "==> $suite: built and tested in $(( $(date +%s) - started ))s"
