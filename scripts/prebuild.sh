#!/usr/bin/env bash
# Builds the N-API prebuild prebuilds/<platform>/abrcast[.glibc].node with the static FFmpeg (and x264,
# libyuv) from scripts/build-ffmpeg.sh linked in, checks it needs none of them (nor any DLL beyond
# Windows' own), and writes prebuilds/<platform>/BUILD-INFO.txt.
#   bash scripts/prebuild.sh                          # linux-x64; FFmpeg prefix: .tools/ffmpeg-static/prefix
#   bash scripts/prebuild.sh --platform linux-arm64   # (or --arch arm64) cross-compiled; .tools/ffmpeg-static-arm64/prefix
#   bash scripts/prebuild.sh --platform win32-x64     # cross-compiled with mingw-w64; .tools/ffmpeg-static-win32-x64/prefix
#   ABRCAST_FFMPEG_PREFIX=/x bash scripts/prebuild.sh
# Without a prefix in the checkout, scripts/build-ffmpeg.sh runs first: it copies a finished one from
# ~/.cache/abrcast/ (seconds) or builds it (long: 30-60 min on two busy cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

platform=linux-x64
while [ $# -gt 0 ]; do
  case "$1" in
    --arch | --platform) platform="${2:-}"; shift ;;
    --arch=* | --platform=*) platform="${1#*=}" ;;
    *) echo "prebuild.sh: unknown argument '$1' (expected --platform linux-x64|linux-arm64|win32-x64)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=scripts/target-arch.sh
. scripts/target-arch.sh "$platform"

if [ -z "${ABRCAST_FFMPEG_PREFIX:-}" ]; then
  export ABRCAST_FFMPEG_PREFIX="$root/.tools/$ffmpeg_dir_name/prefix"
  bash scripts/build-ffmpeg.sh --platform "$platform_name" # a no-op when the prefix is built by this recipe
fi
if [ ! -f "$ABRCAST_FFMPEG_PREFIX/.complete" ]; then
  echo "No static FFmpeg at $ABRCAST_FFMPEG_PREFIX: run scripts/build-ffmpeg.sh --platform $platform_name first" >&2
  exit 1
fi
if [ -n "$cross_host" ]; then
  if ! command -v "${cross_prefix}g++" >/dev/null 2>&1; then
    echo "${cross_prefix}g++ not found: apt-get install $cross_packages" >&2
    exit 1
  fi
  export ABRCAST_CMAKE_TOOLCHAIN_FILE="$root/$cmake_toolchain"
  # pkg-config answers from the prefix (and, for Linux, the arch-independent ffnvcodec headers) only.
  if [ "$target_os" = win32 ]; then
    export PKG_CONFIG_LIBDIR="$ABRCAST_FFMPEG_PREFIX/lib/pkgconfig"
  else
    export PKG_CONFIG_LIBDIR="$ABRCAST_FFMPEG_PREFIX/lib/pkgconfig:/usr/share/pkgconfig"
  fi
fi

platform_dir="$root/prebuilds/$platform_name"
output="$platform_dir/$prebuild_file"
# prebuildify builds in its --cwd (a scratch folder) so build/ of the source build stays as it is.
stage="$root/.tools/prebuild-stage-$platform_name"
rm -rf "$stage" && mkdir -p "$stage"

# N-API: one binary for every Node version >= the napi version in package.json.
# --tag-libc names the Linux ones *.glibc.node, which node-gyp-build skips on musl (Alpine); Windows has no such variants.
# A cross build compiles nothing for the build machine: only headers (node-api-headers) come from there.
# The Windows one is stripped by its linker (CMakeLists.txt): strip would stamp the current time into it.
platform_flags=(--strip --strip-bin "${cross_prefix}strip" --tag-libc)
[ "$target_os" = win32 ] && platform_flags=()
"$root/node_modules/.bin/prebuildify" --napi "${platform_flags[@]}" --name abrcast \
  --platform "$target_os" --arch "$target_arch" --cwd "$stage" --out "$root" --node-gyp "$root/scripts/prebuild-node-gyp.js"
# Its format, what it loads (nothing from FFmpeg, x264 or libyuv; on Windows no DLL beyond Windows' own
# and node.exe) and its exports: one set of rules for the build and for the tests (scripts/check-prebuild.sh).
deps=$(bash scripts/check-prebuild.sh "$platform_name" "$output")
echo "$deps"

size=$(stat -c %s "$output")
if [ "$size" -ge $((30 * 1024 * 1024)) ]; then
  echo "prebuild is $size bytes, over the 30 MB limit" >&2
  exit 1
fi
if [ "$target_os" = linux ]; then
  glibc_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
  glibcxx_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
  cxxabi_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'CXXABI_[0-9.]*' | sort -uV | tail -1)
  system_line="glibc floor: ${glibc_floor} (libstdc++: ${glibcxx_floor}, ${cxxabi_floor}) - needs a system at least this new"
  libc_label=" (glibc)"
else
  subsystem=$("${cross_prefix}objdump" -p "$output" | awk '/^MajorSubsystemVersion/ {major=$2} /^MinorSubsystemVersion/ {minor=$2} END {print major "." minor}')
  system_line="Windows: PE subsystem version ${subsystem} (node.exe 20 to 24 itself needs Windows 8.1 / Server 2012 R2 or newer); C runtime msvcrt.dll; libstdc++, libgcc and winpthreads linked in statically"
  libc_label=""
fi
napi_version=$(node -p "require('./package.json').binary.napi_versions.join(',')")

recorded() { sed -n "s/^$1=//p" "$ABRCAST_FFMPEG_PREFIX/VERSIONS"; }
ffmpeg_deb_source=$(recorded ffmpeg_deb_source)
x264_deb_source=$(recorded x264_deb_source)
x264_build=$(recorded x264_build)
libyuv_deb_source=$(recorded libyuv_deb_source)
libyuv_cxxflags=$(recorded libyuv_cxxflags)
ffmpeg_configure=$(recorded ffmpeg_configure)
x264_configure=$(recorded x264_configure)
cat >"$platform_dir/BUILD-INFO.txt" <<INFO
abrcast $(node -p "require('./package.json').version") prebuild for ${platform_name}${libc_label}, N-API ${napi_version}
built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $("${cross_prefix}gcc" --version | head -1), node $(node --version)${cross_host:+ (cross-compiled on $(uname -m))}
size: ${size} bytes (stripped)
native sources: $(bash scripts/native-sources-hash.sh) (scripts/native-sources-hash.sh)
${system_line}
license: GPL-2.0-or-later (libx264 is GPL; FFmpeg configured with --enable-gpl)
dynamic dependencies:
$(echo "$deps" | awk '{print "  " $1}')

FFmpeg: Debian source package ${ffmpeg_deb_source}, statically linked, symbols hidden
  configure: ${ffmpeg_configure}
x264: Debian source package ${x264_deb_source} (X264_BUILD ${x264_build}), statically linked
  configure: ${x264_configure}
libyuv: Debian source package ${libyuv_deb_source}, statically linked (CPU path's RGB-to-YUV rows)
  built: ${cross_prefix}g++ ${libyuv_cxxflags}, no JPEG
GPU: h264_nvenc, hwupload_cuda and scale_cuda (PTX built by clang, cuda-llvm); CUDA and NVENC
  are loaded from the NVIDIA driver at run time (dlopen/LoadLibrary), nothing CUDA is linked. The device-frame
  RGB-to-YUV kernel is embedded as PTX (native/cuda/rgb-to-yuv420-ptx.h, sm_52) for the driver to compile.
Left out: network protocols (http/https/tls), hls demuxer, AV1 decoding (FFmpeg 5.1 has only a
  hwaccel AV1 decoder), 10-bit x264, zlib/lzma/iconv/xlib/vaapi/vdpau (--disable-autodetect).
Source code: https://sources.debian.org/src/ffmpeg/, https://sources.debian.org/src/x264/ and
  https://sources.debian.org/src/libyuv/
  (exact versions above); rebuild with scripts/build-ffmpeg.sh --platform ${platform_name} and
  scripts/prebuild.sh --platform ${platform_name}.
INFO
rm -rf "$stage"
echo "==> $output (${size} bytes) in $(( $(date +%s) - started ))s"
cat "$platform_dir/BUILD-INFO.txt"
