# Sourced by build-ffmpeg.sh and prebuild.sh: one place that maps a target (x64, arm64) to its
# folders and cross toolchain. arm64 is cross-compiled with Debian's crossbuild-essential-arm64.
#   . scripts/target-arch.sh x64|arm64
# shellcheck shell=bash
case "${1:-x64}" in
  x64)
    target_arch=x64
    ffmpeg_dir_name=ffmpeg-static
    cross_host=""
    cross_prefix=""
    cross_packages=""
    ffmpeg_arch=x86_64
    elf_machine="Advanced Micro Devices X86-64"
    ;;
  arm64)
    target_arch=arm64
    ffmpeg_dir_name=ffmpeg-static-arm64
    cross_host=aarch64-linux-gnu
    cross_prefix=aarch64-linux-gnu-
    cross_packages="crossbuild-essential-arm64"
    ffmpeg_arch=aarch64
    elf_machine="AArch64"
    ;;
  *)
    echo "unknown target arch '${1}': expected x64 or arm64" >&2
    exit 2
    ;;
esac
platform_name="linux-$target_arch"
