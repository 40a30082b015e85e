# Sourced by build-ffmpeg.sh and prebuild.sh: one place that maps a target platform to its folders
# and cross toolchain. linux-arm64 is cross-compiled with Debian's crossbuild-essential-arm64,
# win32-x64 with Debian's mingw-w64 (posix thread model: std::thread needs it).
#   . scripts/target-arch.sh linux-x64|linux-arm64|win32-x64   (x64 and arm64 mean linux-x64 and linux-arm64)
# shellcheck shell=bash
case "${1:-linux-x64}" in
  x64 | linux-x64)
    target_os=linux
    target_arch=x64
    ffmpeg_dir_name=ffmpeg-static
    cross_host=""
    cross_prefix=""
    cross_packages=""
    ffmpeg_arch=x86_64
    ffmpeg_target_os=linux
    binary_format="ELF: Advanced Micro Devices X86-64"
    cmake_toolchain=""
    ;;
  arm64 | linux-arm64)
    target_os=linux
    target_arch=arm64
    ffmpeg_dir_name=ffmpeg-static-arm64
    cross_host=aarch64-linux-gnu
    cross_prefix=aarch64-linux-gnu-
    cross_packages="crossbuild-essential-arm64"
    ffmpeg_arch=aarch64
    ffmpeg_target_os=linux
    binary_format="ELF: AArch64"
    cmake_toolchain=scripts/toolchain-arm64.cmake
    ;;
  win32-x64)
    target_os=win32
    target_arch=x64
    ffmpeg_dir_name=ffmpeg-static-win32-x64
    cross_host=x86_64-w64-mingw32
    cross_prefix=x86_64-w64-mingw32-
    # binutils-mingw-w64-x86-64 (dlltool, objdump) comes with it.
    cross_packages="g++-mingw-w64-x86-64-posix"
    ffmpeg_arch=x86_64
    ffmpeg_target_os=mingw32
    binary_format="PE: pei-x86-64"
    cmake_toolchain=scripts/toolchain-win32-x64.cmake
    ;;
  *)
    echo "unknown target '${1}': expected linux-x64 (x64), linux-arm64 (arm64) or win32-x64" >&2
    exit 2
    ;;
esac
platform_name="$target_os-$target_arch"
# The file node-gyp-build looks for in prebuilds/<platform_name>/: Linux builds carry the glibc tag
# (node-gyp-build skips them on musl); Windows has no libc variants to tell apart.
if [ "$target_os" = linux ]; then
  prebuild_file=abrcast.glibc.node
else
  prebuild_file=abrcast.node
fi
# A finished static prefix is kept per machine outside the checkout (like Kubo, scripts/install-kubo.sh),
# so a fresh clone or another worktree reuses it instead of a long rebuild.
ffmpeg_cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/$ffmpeg_dir_name"

# The binary's format as "ELF: <machine>" or "PE: <objdump format>", to compare with binary_format.
binary_format_of() {
  if [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
    echo "ELF: $(readelf -h "$1" | sed -n 's/^ *Machine: *//p')"
  else
    echo "PE: $(objdump -f "$1" 2>/dev/null | sed -n "s/.*file format //p")"
  fi
}
