#!/usr/bin/env bash
# Compiles every native source (syntax and warnings only) against the headers
# of a newer FFmpeg than the one installed, to keep the code building on
# FFmpeg 5.1 through 7.1. The headers come from Debian's source package of the
# given suite (default trixie: FFmpeg 7.1) and are kept in .tools/.
#   bash scripts/check-ffmpeg-api.sh [suite]
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:-trixie}"
work="$PWD/.tools/ffmpeg-headers-$suite"
prefix="$work/prefix"

if [ ! -f "$prefix/.complete" ]; then
  rm -rf "$work" && mkdir -p "$work/lists/partial"
  printf 'deb-src http://deb.debian.org/debian %s main\n' "$suite" >"$work/sources.list"
  apt_opts=(-oDir::State::Lists="$work/lists" -oDir::Etc::SourceList="$work/sources.list" -oDir::Etc::SourceParts=/dev/null)
  apt-get "${apt_opts[@]}" update -qq
  # Only the upstream tarball is needed (headers); a mirror may lack the newest .dsc of an unstable suite.
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only -qq ffmpeg >"$work/download.log" 2>&1) || true
  orig=$(find "$work" -maxdepth 1 -name 'ffmpeg_*.orig.tar.xz' | head -1)
  [ -n "$orig" ] || { cat "$work/download.log" >&2; echo "no FFmpeg source tarball for $suite" >&2; exit 1; }
  tar -C "$work" -xf "$orig"
  src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*' | head -1)
  (cd "$src" && ./configure --prefix="$prefix" --disable-everything --disable-programs --disable-doc --disable-x86asm >/dev/null &&
    make install-headers >/dev/null)
  touch "$prefix/.complete"
fi

napi=$(node -p "require('node-addon-api').include_dir")
node_api=$(node -p "require('path').join(require.resolve('node-api-headers/package.json'), '..', 'include')")
version=$(sed -n 's/^#define LIBAVCODEC_VERSION_MAJOR *//p' "$prefix/include/libavcodec/version_major.h")
failed=0
for source in native/src/*.cc; do
  g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter \
    -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED \
    -I"$prefix/include" -Inative/cuda -I"$node_api" -I"$napi" "$source" || failed=1
done
[ "$failed" = 0 ] || { echo "native sources do not compile cleanly against FFmpeg from $suite (libavcodec $version)" >&2; exit 1; }
echo "native sources compile cleanly against FFmpeg from $suite (libavcodec $version)"
