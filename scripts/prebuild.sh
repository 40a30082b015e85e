#!/usr/bin/env bash
# Builds the N-API prebuild prebuilds/linux-<arch>/abrcast.glibc.node with the static FFmpeg
# (and x264, libyuv) from scripts/build-ffmpeg.sh linked in, checks it needs none of them, and writes
# prebuilds/linux-<arch>/BUILD-INFO.txt.
#   bash scripts/prebuild.sh                 # linux-x64; FFmpeg prefix: .tools/ffmpeg-static/prefix
#   bash scripts/prebuild.sh --arch arm64    # linux-arm64, cross-compiled; prefix: .tools/ffmpeg-static-arm64/prefix
#   ABRCAST_FFMPEG_PREFIX=/x bash scripts/prebuild.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

arch=x64
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="${2:-}"; shift ;;
    --arch=*) arch="${1#--arch=}" ;;
    *) echo "prebuild.sh: unknown argument '$1' (expected --arch x64|arm64)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=scripts/target-arch.sh
. scripts/target-arch.sh "$arch"

export ABRCAST_FFMPEG_PREFIX="${ABRCAST_FFMPEG_PREFIX:-$root/.tools/$ffmpeg_dir_name/prefix}"
if [ ! -f "$ABRCAST_FFMPEG_PREFIX/.complete" ]; then
  echo "No static FFmpeg at $ABRCAST_FFMPEG_PREFIX: run scripts/build-ffmpeg.sh --arch $target_arch first" >&2
  exit 1
fi
if [ -n "$cross_host" ]; then
  if ! command -v "${cross_prefix}g++" >/dev/null 2>&1; then
    echo "${cross_prefix}g++ not found: apt-get install $cross_packages" >&2
    exit 1
  fi
  export ABRCAST_CMAKE_TOOLCHAIN_FILE="$root/scripts/toolchain-$target_arch.cmake"
  # pkg-config answers from the prefix (and the arch-independent ffnvcodec headers) only.
  export PKG_CONFIG_LIBDIR="$ABRCAST_FFMPEG_PREFIX/lib/pkgconfig:/usr/share/pkgconfig"
fi

platform_dir="$root/prebuilds/$platform_name"
output="$platform_dir/abrcast.glibc.node"
# prebuildify builds in its --cwd (a scratch folder) so build/ of the source build stays as it is.
stage="$root/.tools/prebuild-stage"
rm -rf "$stage" && mkdir -p "$stage"

# N-API: one binary for every Node version >= the napi version in package.json.
# --tag-libc names it *.glibc.node, which node-gyp-build skips on musl (Alpine).
# A cross build compiles nothing for the build machine: only headers (node-api-headers) come from there.
"$root/node_modules/.bin/prebuildify" --napi --strip --strip-bin "${cross_prefix}strip" --tag-libc --name abrcast \
  --arch "$target_arch" --cwd "$stage" --out "$root" --node-gyp "$root/scripts/prebuild-node-gyp.js"
test -f "$output"
machine=$(readelf -h "$output" | sed -n 's/^ *Machine: *//p')
if [ "$machine" != "$elf_machine" ]; then
  echo "$output is built for '$machine', expected '$elf_machine'" >&2
  exit 1
fi

# The whole point: nothing from FFmpeg, x264 or libyuv may be needed at load time. ldd cannot run a
# cross-built library, so a cross build lists its DT_NEEDED entries (the arm64 qemu test loads it).
if [ -n "$cross_host" ]; then
  deps=$(readelf -d "$output" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
else
  deps=$(ldd "$output")
fi
echo "$deps"
if echo "$deps" | grep -Eq 'libav(codec|format|filter|util)|libsw(scale|resample)|libx264|libyuv|not found'; then
  echo "prebuild depends on a shared FFmpeg/x264/libyuv library (or misses one)" >&2
  exit 1
fi
exported=$("${cross_prefix}nm" -D --defined-only "$output" | awk '{print $3}' | grep -Ev '^(napi_register_module_v1|node_api_module_get_api_version_v1)$' || true)
if [ -n "$exported" ] || ! "${cross_prefix}nm" -D --defined-only "$output" | grep -q ' napi_register_module_v1$'; then
  echo "expected only the Node-API entry points as exports, also got: $exported" >&2
  exit 1
fi

size=$(stat -c %s "$output")
if [ "$size" -ge $((30 * 1024 * 1024)) ]; then
  echo "prebuild is $size bytes, over the 30 MB limit" >&2
  exit 1
fi
glibc_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
glibcxx_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
cxxabi_floor=$("${cross_prefix}objdump" -T "$output" | grep -o 'CXXABI_[0-9.]*' | sort -uV | tail -1)
napi_version=$(node -p "require('./package.json').binary.napi_versions.join(',')")

recorded() { sed -n "s/^$1=//p" "$ABRCAST_FFMPEG_PREFIX/VERSIONS"; }
ffmpeg_deb_source=$(recorded ffmpeg_deb_source)
x264_deb_source=$(recorded x264_deb_source)
x264_build=$(recorded x264_build)
libyuv_deb_source=$(recorded libyuv_deb_source)
libyuv_cxxflags=$(recorded libyuv_cxxflags)
ffmpeg_configure=$(recorded ffmpeg_configure)
x264_configure=$(recorded x264_configure)
cat >"$platform_dir/BUILD-INFO.txt" <<EOF
abrcast $(node -p "require('./package.json').version") prebuild for ${platform_name} (glibc), N-API ${napi_version}
built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $("${cross_prefix}gcc" --version | head -1), node $(node --version)${cross_host:+ (cross-compiled on $(uname -m))}
size: ${size} bytes (stripped)
native sources: $(bash scripts/native-sources-hash.sh) (scripts/native-sources-hash.sh)
glibc floor: ${glibc_floor} (libstdc++: ${glibcxx_floor}, ${cxxabi_floor}) - needs a system at least this new
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
  are loaded from the NVIDIA driver at run time (dlopen), nothing CUDA is linked. The device-frame
  RGB-to-YUV kernel is embedded as PTX (native/cuda/rgb-to-yuv420-ptx.h, sm_52) for the driver to compile.
Left out: network protocols (http/https/tls), hls demuxer, AV1 decoding (FFmpeg 5.1 has only a
  hwaccel AV1 decoder), 10-bit x264, zlib/lzma/iconv/xlib/vaapi/vdpau (--disable-autodetect).
Source code: https://sources.debian.org/src/ffmpeg/, https://sources.debian.org/src/x264/ and
  https://sources.debian.org/src/libyuv/
  (exact versions above); rebuild with scripts/build-ffmpeg.sh --arch ${target_arch} and
  scripts/prebuild.sh --arch ${target_arch}.
EOF
rm -rf "$stage"
echo "==> $output (${size} bytes, ${glibc_floor}) in $(( $(date +%s) - started ))s"
cat "$platform_dir/BUILD-INFO.txt"
