#!/usr/bin/env bash
# Checks a built prebuild without running it, and prints what it loads (one library a line): the format
# its platform needs; nothing from FFmpeg, x264 or libyuv loaded at run time (all static); on Windows no
# DLL beyond Windows' own and node.exe (Node-API), so no libstdc++-6.dll, libgcc_s_seh-1.dll or
# libwinpthread-1.dll from mingw; and only the Node-API entry points exported.
# Used by scripts/prebuild.sh after a build and by the tests of the committed prebuilds.
#   bash scripts/check-prebuild.sh win32-x64 [file]    # default file: prebuilds/<platform>/<its name>
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/target-arch.sh
. scripts/target-arch.sh "${1:-linux-x64}"
file="${2:-prebuilds/$platform_name/$prebuild_file}"
fail() { echo "check-prebuild.sh: $file: $*" >&2; exit 1; }

[ -f "$file" ] || fail "absent (scripts/prebuild.sh --platform $platform_name builds it)"
format=$(binary_format_of "$file")
[ "$format" = "$binary_format" ] || fail "is '$format', expected '$binary_format'"

if [ "$target_os" = win32 ]; then
  # Windows' own DLLs that mingw's runtime and FFmpeg's static libraries may import (msvcrt: mingw's C runtime).
  windows_own='^(node\.exe|KERNEL32\.dll|msvcrt\.dll|bcrypt\.dll|ADVAPI32\.dll|USER32\.dll|ole32\.dll|SHELL32\.dll|WS2_32\.dll|api-ms-win-[a-z0-9-]+\.dll)$'
  deps=$(objdump -p "$file" | sed -n 's/^\tDLL Name: //p')
  foreign=$(grep -Eiv "$windows_own" <<<"$deps" || true)
  [ -z "$foreign" ] || fail "imports DLLs that are neither Windows' own nor node.exe: $(echo $foreign)"
  grep -qix 'node.exe' <<<"$deps" || fail "does not import Node-API from node.exe: $(echo $deps)"
  exported=$(objdump -p "$file" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' | sed -n 's/^\t\[ *[0-9]*\] //p')
else
  # ldd only for a native build; a cross build lists DT_NEEDED (its test loads it under qemu).
  if [ "$(uname -m)" = x86_64 ] && [ "$target_arch" = x64 ]; then
    deps=$(ldd "$file" | awk '{print $1 ($2 == "=>" && $3 == "not" ? " not found" : "")}')
  else
    deps=$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  fi
  ! grep -q 'not found' <<<"$deps" || fail "a library it needs is not found: $(echo $deps)"
  exported=$(readelf -W --dyn-syms "$file" | awk '$5 == "GLOBAL" && $7 != "UND" {print $8}' | sed 's/@.*//' | sort -u)
fi
if grep -Eiq '(lib)?(avcodec|avformat|avfilter|avutil|swscale|swresample|x264|yuv)([-.]|$)' <<<"$deps"; then
  fail "loads a shared FFmpeg/x264/libyuv library: $(echo $deps)"
fi
extra=$(grep -Ev '^(napi_register_module_v1|node_api_module_get_api_version_v1|)$' <<<"$exported" || true)
if [ -n "$extra" ] || ! grep -qx 'napi_register_module_v1' <<<"$exported"; then
  fail "expected only the Node-API entry points as exports, got: $(echo $exported)"
fi
echo "$deps"
