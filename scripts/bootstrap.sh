#!/usr/bin/env bash
# Installs what abrcast needs on a fresh Debian/Ubuntu machine, then builds it.
#   bash scripts/bootstrap.sh          # to run abrcast (FFmpeg libraries, npm packages, the addon)
#   bash scripts/bootstrap.sh --test   # also what the tests use: ffmpeg/ffprobe, PostgreSQL 15, Chromium, HAProxy, GStreamer, Kubo, clang and ptxas (CUDA kernel checks),
#                                      # qemu-user and an arm64 node (the linux-arm64 prebuild's test), Wine and Windows' node.exe (the
#                                      # win32-x64 prebuild's test), Node 22 and 24 (scripts/test-node-versions.sh) and a Debian 13 root
#                                      # with FFmpeg 7.1 (scripts/test-system-ffmpeg.sh). Everything downloaded or built is kept in
#                                      # ~/.cache/abrcast/, so a second run on the same machine costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

packages=(cmake g++ make pkg-config
  libavcodec-dev libavformat-dev libavfilter-dev libswscale-dev libavutil-dev libswresample-dev
  libx264-dev libffmpeg-nvenc-dev libyuv-dev)
if [ "$with_tests" = 1 ]; then
  packages+=(ffmpeg postgresql-15 chromium golang-go clang libclang-rt-14-dev haproxy)
  # GStreamer as an HLS client (test/server/stream-clients.test.ts): gst-launch-1.0, playbin, hlsdemux, the H.264/AAC decoders.
  packages+=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Go may come from elsewhere (e.g. /usr/local/go); only ask apt for it when there is none.
if command -v go >/dev/null 2>&1; then
  missing=("${missing[@]/golang-go}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "==> npm ci"
npm ci --no-audit --no-fund

echo "==> build (native addon + TypeScript)"
npm run build

if [ "$with_tests" = 1 ]; then
  echo "==> Kubo for the IPFS tests"
  bash scripts/install-kubo.sh
  echo "==> ptxas for the CUDA kernel test (optional)"
  bash scripts/install-ptxas.sh
  echo "==> qemu-user and Debian's arm64 node for the linux-arm64 prebuild's test"
  bash scripts/install-arm64-node.sh
  echo "==> Wine and Windows' Node 22 for the win32-x64 prebuild's test"
  bash scripts/install-wine.sh
  echo "==> Node 22 and 24 (official binaries) for scripts/test-node-versions.sh"
  bash scripts/install-node.sh linux-x64 22
  bash scripts/install-node.sh linux-x64 24
  echo "==> a Debian 13 root (FFmpeg 7.1) for scripts/test-system-ffmpeg.sh"
  bash scripts/debian-root.sh trixie
fi
echo "==> ready"
