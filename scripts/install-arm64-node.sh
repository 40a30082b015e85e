#!/usr/bin/env bash
# Installs what the linux-arm64 prebuild's test (scripts/test-arm64-prebuild.sh) runs on an x86-64
# Debian 12: qemu-user and Debian's arm64 Node (nodejs:arm64, Node 18, N-API 8) unpacked into
# .tools/arm64-root, not installed, because nodejs:arm64 would replace the machine's own node.
#   bash scripts/install-arm64-node.sh      # skips when .tools/arm64-root/usr/bin/node runs
# Then: qemu-aarch64 -L .tools/arm64-root .tools/arm64-root/usr/bin/node --version
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)/.tools/arm64-root"

if [ -x "$root_dir/usr/bin/node" ] && command -v qemu-aarch64 >/dev/null 2>&1 &&
  qemu-aarch64 -L "$root_dir" "$root_dir/usr/bin/node" --version >/dev/null 2>&1; then
  echo "arm64 node already at $root_dir ($(qemu-aarch64 -L "$root_dir" "$root_dir/usr/bin/node" --version))"
  exit 0
fi

sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
# arm64 in dpkg's list lets apt see the arm64 packages; nothing arm64 is installed by this script.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo_cmd dpkg --add-architecture arm64
  $sudo_cmd apt-get update -qq
fi
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
  $sudo_cmd apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi

# nodejs and libnode108's Depends: the libraries (arm64), and the builtins Debian keeps outside the
# binary (acorn, cjs-module-lexer, undici: JavaScript, Architecture: all) with theirs.
packages=(nodejs libnode108 libc6 libgcc-s1 libstdc++6 libuv1 libc-ares2 libicu72 libbrotli1 libssl3
  libnghttp2-14 zlib1g)
js_packages=(node-acorn node-xtend node-cjs-module-lexer node-undici node-busboy)
debs="$(pwd)/.tools/arm64-debs"
rm -rf "$debs" "$root_dir" && mkdir -p "$debs" "$root_dir"
# Sandbox user root: _apt may not write into the checkout.
(cd "$debs" && apt-get -o APT::Sandbox::User=root download -qq "${packages[@]/%/:arm64}" "${js_packages[@]}")
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root_dir"; done
rm -rf "$debs"
echo "arm64 node at $root_dir: $(qemu-aarch64 -L "$root_dir" "$root_dir/usr/bin/node" --version)"
