#!/usr/bin/env bash
# Installs Kubo v0.43.1 (the IPFS daemon the tests run against) into .tools/bin/ipfs,
# building it from the Go module proxy. Skips the work when a matching binary exists.
#
# `go install github.com/ipfs/kubo/cmd/ipfs@v0.43.1` refuses this release: its go.mod
# replaces go-libp2p with a fork that the module proxy does not serve. We build the
# same release from the module cache with the replace dropped and quic-go and
# webtransport-go pinned to the versions go-libp2p v0.49.0 itself requires.
set -euo pipefail
version=v0.43.1
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.tools/bin/ipfs"
# Built once per machine, outside the checkout, so fresh clones reuse it.
cache="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/kubo-${version}/ipfs"

if [ -x "$dest" ] && "$dest" version 2>/dev/null | grep -q "${version#v}"; then
  echo "kubo ${version} already at $dest"; exit 0
fi
for candidate in "$cache" "$(command -v ipfs || true)" "$HOME/go/bin/ipfs"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" version 2>/dev/null | grep -q "${version#v}"; then
    mkdir -p "$(dirname "$dest")"; cp "$candidate" "$dest"; echo "kubo ${version} copied from $candidate"; exit 0
  fi
done
command -v go >/dev/null || { echo "Go is needed to build Kubo (apt-get install golang, or see https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"

if GOBIN="$(dirname "$dest")" go install "github.com/ipfs/kubo/cmd/ipfs@${version}" 2>/dev/null; then
  mkdir -p "$(dirname "$cache")" && cp "$dest" "$cache"
  echo "kubo ${version} installed with go install"; exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go mod download "github.com/ipfs/kubo@${version}"
cp -r "$(go env GOMODCACHE)/github.com/ipfs/kubo@${version}" "$work/kubo"
chmod -R u+w "$work/kubo"
cd "$work/kubo"
sed -i '/^replace github.com\/libp2p\/go-libp2p =>/d' go.mod
sed -i -E 's#(github.com/quic-go/quic-go) v[0-9.]+#\1 v0.60.0#; s#(github.com/quic-go/webtransport-go) v[0-9.]+#\1 v0.11.1#' go.mod
GOFLAGS=-mod=mod go build -trimpath -o "$dest" ./cmd/ipfs
mkdir -p "$(dirname "$cache")" && cp "$dest" "$cache"
"$dest" version
