#!/usr/bin/env bash
# Builds the minimal static FFmpeg (+ static x264 and libyuv) that the prebuilt addon links in,
# from Debian bookworm's source packages, into .tools/ffmpeg-static/prefix (linux-x64),
# .tools/ffmpeg-static-arm64/prefix (linux-arm64, cross-compiled with Debian's crossbuild-essential-arm64)
# or .tools/ffmpeg-static-win32-x64/prefix (win32-x64, cross-compiled with Debian's mingw-w64).
#   bash scripts/build-ffmpeg.sh                          # skips when the prefix is already complete
#   bash scripts/build-ffmpeg.sh --force                  # rebuilds from scratch (keeps downloaded sources)
#   bash scripts/build-ffmpeg.sh --platform linux-arm64   # (or --arch arm64) the linux-arm64 prefix
#   bash scripts/build-ffmpeg.sh --platform win32-x64     # the Windows x64 prefix
# Then: bash scripts/prebuild.sh [--platform linux-arm64|win32-x64]
# A finished prefix is also kept in ~/.cache/abrcast/<name>/prefix and copied from there when the
# checkout has none (a fresh clone or another worktree), unless --force.
#
# Why Debian's FFmpeg 5.1 source (apt-get source ffmpeg): the native core is written and
# tested against the system FFmpeg 5.1 (libavcodec59) of Debian 12; building the bundled
# copy from the same source package (Debian patches included) keeps one API/ABI and one
# behaviour for both the source build and the prebuild.
# Why x264 from source: Debian's libx264.a is not position independent (R_X86_64_PC32
# against stderr in base.o), so it cannot be linked into a shared .node.
# Why libyuv from source: the CPU path's RGB-to-YUV and scaling rows (native/src/yuv-convert.cc);
# Debian's libyuv.a is not built position independent either.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

force=0
platform=linux-x64
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --arch | --platform) platform="${2:-}"; shift ;;
    --arch=* | --platform=*) platform="${1#*=}" ;;
    *) echo "build-ffmpeg.sh: unknown argument '$1' (expected --force, --platform linux-x64|linux-arm64|win32-x64)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=scripts/target-arch.sh
. scripts/target-arch.sh "$platform"

base="$root/.tools/$ffmpeg_dir_name"
src="$base/src"
prefix="$base/prefix"
jobs=$(nproc)

# A prefix is reused only when it was built by this very recipe (this script and target-arch.sh):
# a changed configure line (an encoder added) must never link against a stale cached prefix.
recipe=$(cat scripts/build-ffmpeg.sh scripts/target-arch.sh | sha256sum | cut -c1-16)
current() { [ -f "$1/.complete" ] && [ "$(cat "$1/.complete")" = "$recipe" ]; }
if [ "$force" = 0 ] && current "$prefix"; then
  echo "==> $prefix is complete; nothing to do (use --force to rebuild)"
  exit 0
fi
if [ "$force" = 0 ] && current "$ffmpeg_cache_dir/prefix"; then
  rm -rf "$prefix" && mkdir -p "$base" && cp -a "$ffmpeg_cache_dir/prefix" "$prefix"
  # The .pc files name the folder the prefix was built in: point them here.
  built_in=$(sed -n 's/^prefix=//p' "$prefix/lib/pkgconfig/libavcodec.pc")
  sed -i "s#$built_in#$prefix#g" "$prefix"/lib/pkgconfig/*.pc
  echo "==> $prefix copied from $ffmpeg_cache_dir/prefix (use --force to rebuild)"
  exit 0
fi
# Downloaded source packages stay (apt-get source skips files already there); unpacked trees go.
find "$src" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} + 2>/dev/null || true
rm -rf "$prefix"
mkdir -p "$src" "$prefix"

sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive

# apt-get source needs deb-src entries; add them for the same mirrors and suites as the
# existing deb entries (deb822 .sources files or one-line sources.list).
has_deb_src() {
  grep -Eqs '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list ||
    grep -Eqs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources
}
if ! has_deb_src; then
  echo "==> adding deb-src entries (/etc/apt/sources.list.d/abrcast-deb-src.*)"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q 'debian' "$f" || continue
    sed -E 's/^Types:.*$/Types: deb-src/' "$f"
    echo
  done | $sudo_cmd tee /etc/apt/sources.list.d/abrcast-deb-src.sources >/dev/null
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb .*debian' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
      $sudo_cmd tee /etc/apt/sources.list.d/abrcast-deb-src.list >/dev/null || true
  fi
fi

echo "==> apt-get install build tools"
$sudo_cmd apt-get update -qq
# nasm: x86 SIMD for x264 and FFmpeg. clang: compiles scale_cuda's kernels to PTX
# (--enable-cuda-llvm), which needs no CUDA toolkit. libffmpeg-nvenc-dev: ffnvcodec headers.
$sudo_cmd apt-get install -y -qq --no-install-recommends \
  dpkg-dev nasm clang pkg-config make gcc libffmpeg-nvenc-dev ${cross_packages} >/dev/null

# Versions may be pinned for a reproducible rebuild (e.g. FFMPEG_DEB_VERSION=7:5.1.9-0+deb12u1);
# by default the newest bookworm/bookworm-security source is used and recorded in VERSIONS.
ffmpeg_spec="ffmpeg${FFMPEG_DEB_VERSION:+=$FFMPEG_DEB_VERSION}"
x264_spec="x264${X264_DEB_VERSION:+=$X264_DEB_VERSION}"
libyuv_spec="libyuv${LIBYUV_DEB_VERSION:+=$LIBYUV_DEB_VERSION}"
echo "==> apt-get source $ffmpeg_spec $x264_spec $libyuv_spec"
(cd "$src" && apt-get source -q "$ffmpeg_spec" "$x264_spec" "$libyuv_spec" 2>&1 | grep -vE '^(dpkg-source: info|Get:|Need to get|Fetched)' || true)
ffmpeg_dir=$(find "$src" -maxdepth 1 -type d -name 'ffmpeg-*' | head -1)
x264_dir=$(find "$src" -maxdepth 1 -type d -name 'x264-*' | head -1)
libyuv_dir=$(find "$src" -maxdepth 1 -type d -name 'libyuv-*' | head -1)
if [ -z "$ffmpeg_dir" ] || [ -z "$x264_dir" ] || [ -z "$libyuv_dir" ]; then
  echo "apt-get source did not unpack ffmpeg, x264 and libyuv into $src" >&2
  exit 1
fi
ffmpeg_deb=$(dpkg-parsechangelog -l "$ffmpeg_dir/debian/changelog" -S Version)
x264_deb=$(dpkg-parsechangelog -l "$x264_dir/debian/changelog" -S Version)
libyuv_deb=$(dpkg-parsechangelog -l "$libyuv_dir/debian/changelog" -S Version)

echo "==> libyuv $libyuv_deb (static, PIC, no JPEG)"
# Its own linux.mk's way: every source/*.cc (other architectures' files compile to nothing),
# without HAVE_JPEG, so the library needs nothing but libc and libstdc++.
# On aarch64 NEON is part of the base ISA, so its rows (row_neon64.cc, scale_neon64.cc) build without flags.
libyuv_cxxflags="-O2 -fomit-frame-pointer -fPIC -fvisibility=hidden"
# PE code is position independent by design: -fPIC means nothing there.
[ "$target_os" = win32 ] && libyuv_cxxflags="-O2 -fomit-frame-pointer -fvisibility=hidden"
(cd "$libyuv_dir" && mkdir -p build-static &&
  printf '%s\n' source/*.cc | xargs -P "$jobs" -I{} sh -c \
    "${cross_prefix}"'g++ '"$libyuv_cxxflags"' -Iinclude -c "$1" -o "build-static/$(basename "$1" .cc).o"' _ {} >"$base/libyuv-build.log" 2>&1 &&
  mkdir -p "$prefix/lib" "$prefix/include" && "${cross_prefix}ar" rcs "$prefix/lib/libyuv.a" build-static/*.o &&
  cp -r include/libyuv include/libyuv.h "$prefix/include/") ||
  { tail -40 "$base/libyuv-build.log"; exit 1; }

echo "==> x264 $x264_deb (static, PIC, 8-bit only, no CLI)"
# 8-bit only: the core encodes yuv420p; 10-bit would double x264's size for nothing.
x264_flags=(--prefix="$prefix" --enable-static --enable-pic --disable-cli --bit-depth=8
  --disable-opencl --disable-avs --disable-swscale --disable-lavf --disable-ffms
  --disable-gpac --disable-lsmash)
[ -n "$cross_host" ] && x264_flags+=(--host="$cross_host" --cross-prefix="$cross_prefix")
(cd "$x264_dir" && ./configure "${x264_flags[@]}" >"$base/x264-build.log" 2>&1 &&
  make -j"$jobs" >>"$base/x264-build.log" 2>&1 && make install-lib-static >>"$base/x264-build.log" 2>&1) ||
  { tail -40 "$base/x264-build.log"; exit 1; }

echo "==> FFmpeg $ffmpeg_deb (minimal, static, PIC)"
ffmpeg_flags=(
  --prefix="$prefix" --pkg-config-flags=--static
  --extra-cflags="-I$prefix/include" --extra-ldflags="-L$prefix/lib"
  --enable-gpl --enable-static --disable-shared --enable-pic
  --disable-programs --disable-doc --disable-debug --disable-avdevice --disable-postproc
  # Nothing found on the build machine gets in by accident (xlib, zlib, lzma, vaapi, ...).
  --disable-autodetect
  # No network: the core reads frames from JS and writes segments in memory or to files;
  # http(s) would need TLS (openssl/gnutls) to be useful, which is a large, security-sensitive dependency.
  --disable-network
  --disable-everything
  --enable-libx264
  # GPU path: CUDA/NVENC are dlopen'ed at run time by ffnvcodec, so nothing CUDA is linked.
  --enable-ffnvcodec --enable-cuda --enable-nvenc
  --enable-encoder=libx264,aac,h264_nvenc,mjpeg
  # Audio sources (the audio track's file input): the common containers and codecs, PCM for wav.
  --enable-decoder=h264,hevc,vp9,aac,mp3,opus,vorbis,flac,pcm_s16le,pcm_s24le,pcm_s32le,pcm_f32le,pcm_u8
  --enable-demuxer=mov,matroska,mpegts,mp3,aac,wav,flac,ogg
  --enable-muxer=mpegts,adts,mp4
  # mpegaudio: the mp3 demuxer reads raw chunks and relies on the parser to cut frames.
  --enable-parser=h264,hevc,aac,opus,vp9,mpegaudio,flac,vorbis
  --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,aac_adtstoasc
  --enable-protocol=file,pipe
  --enable-filter=buffer,buffersink,abuffer,abuffersink,format,aformat,split,asplit,scale,fps,aresample,anull,null,hwupload_cuda
  --enable-swscale --enable-swresample
)
# Cross build: FFmpeg's own aarch64 NEON asm stays on (configure enables it for --arch=aarch64).
# pkg-config sees only the prefix (x264) and the arch-independent ffnvcodec headers, never the build
# machine's x86-64 libraries.
if [ -n "$cross_host" ]; then
  ffmpeg_flags+=(--enable-cross-compile --cross-prefix="$cross_prefix" --arch="$ffmpeg_arch" --target-os="$ffmpeg_target_os"
    --pkg-config=pkg-config)
  export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig:/usr/share/pkgconfig"
fi
if [ "$target_os" = win32 ]; then
  # Windows' own threads (FFmpeg's and x264's default there), so neither needs winpthreads; named
  # here so configure fails rather than build without threads.
  ffmpeg_flags+=(--enable-w32threads)
  # mingw's compiler does not search /usr/include: the (header-only, arch-independent) ffnvcodec
  # headers go into the prefix with a .pc of their own, and pkg-config sees the prefix only.
  mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
  cp -r /usr/include/ffnvcodec "$prefix/include/"
  sed "s#^prefix=.*#prefix=$prefix#" /usr/share/pkgconfig/ffnvcodec.pc >"$prefix/lib/pkgconfig/ffnvcodec.pc"
  export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig"
fi
# scale_cuda's kernels are compiled to PTX by clang (cuda-llvm); without clang the GPU
# path cannot scale on the device, so fail loudly rather than ship a half GPU path.
if command -v clang >/dev/null 2>&1; then
  ffmpeg_flags+=(--enable-cuda-llvm --enable-filter=scale_cuda)
else
  echo "clang not found: scale_cuda needs it (apt-get install clang)" >&2
  exit 1
fi
(cd "$ffmpeg_dir" &&
  PKG_CONFIG_PATH="$prefix/lib/pkgconfig" ./configure "${ffmpeg_flags[@]}" >"$base/ffmpeg-configure.log" 2>&1 ||
  { tail -30 "$base/ffmpeg-configure.log"; tail -40 "$ffmpeg_dir/ffbuild/config.log"; exit 1; })
(cd "$ffmpeg_dir" && make -j"$jobs" >"$base/ffmpeg-make.log" 2>&1 && make install >>"$base/ffmpeg-make.log" 2>&1) ||
  { tail -40 "$base/ffmpeg-make.log"; exit 1; }

# What prebuild.sh copies into BUILD-INFO.txt.
{
  echo "platform=$platform_name"
  echo "target_arch=$target_arch${cross_host:+ (cross-compiled, ${cross_prefix}gcc $(${cross_prefix}gcc -dumpfullversion))}"
  echo "ffmpeg_deb_source=ffmpeg $ffmpeg_deb"
  echo "x264_deb_source=x264 $x264_deb"
  echo "libyuv_deb_source=libyuv $libyuv_deb"
  echo "libyuv_cxxflags=$libyuv_cxxflags"
  echo "x264_build=$(grep -m1 '#define X264_BUILD' "$prefix/include/x264.h" | awk '{print $3}')"
  echo "x264_configure=${x264_flags[*]/--prefix=$prefix/--prefix=PREFIX}"
  printf 'ffmpeg_configure=%s\n' "$(printf '%s ' "${ffmpeg_flags[@]}" | sed "s#$prefix#PREFIX#g")"
} >"$prefix/VERSIONS"
echo "$recipe" >"$prefix/.complete"
rm -rf "$ffmpeg_cache_dir/prefix.tmp" && mkdir -p "$ffmpeg_cache_dir" &&
  cp -a "$prefix" "$ffmpeg_cache_dir/prefix.tmp" && rm -rf "$ffmpeg_cache_dir/prefix" &&
  mv "$ffmpeg_cache_dir/prefix.tmp" "$ffmpeg_cache_dir/prefix"
echo "==> done in $(( $(date +%s) - started ))s: $prefix"
cat "$prefix/VERSIONS"
