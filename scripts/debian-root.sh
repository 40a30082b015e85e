#!/usr/bin/env bash
# A Debian root of another suite (trixie: FFmpeg 7.1, sid: the newest FFmpeg Debian ships) made with
# debootstrap into a folder, never installed on this machine, with what a source build of abrcast needs
# (compiler, cmake, the FFmpeg -dev packages) and what its encoder tests use (nodejs, ffprobe).
# It is kept per machine in ~/.cache/abrcast/debian-<suite>-root, like Kubo (scripts/install-kubo.sh).
#   bash scripts/debian-root.sh trixie             # makes it once (cold: ~5-10 min, ~1 GB), else nothing
#   bash scripts/debian-root.sh sid --refresh      # apt-get update and upgrade inside it
#   bash scripts/debian-root.sh trixie --run CMD…  # runs CMD inside it (chroot), this checkout bound at its own path
# Needs root (debootstrap, chroot, mount): it is run as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)

suite="${1:-}"
case "$suite" in
  trixie | sid) ;;
  *) echo "debian-root.sh: expected a suite, trixie or sid, got '${suite}'" >&2; exit 2 ;;
esac
shift
refresh=0
run=()
while [ $# -gt 0 ]; do
  case "$1" in
    --refresh) refresh=1 ;;
    --run) shift; run=("$@"); break ;;
    *) echo "debian-root.sh: unknown argument '$1' (expected --refresh or --run CMD...)" >&2; exit 2 ;;
  esac
  shift
done

root_dir="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/debian-$suite-root"
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
# What the source build needs (the README's apt-get line) and what the encoder tests run.
packages=(g++ make cmake pkg-config ca-certificates
  libavcodec-dev libavformat-dev libavfilter-dev libswscale-dev libavutil-dev libswresample-dev
  libffmpeg-nvenc-dev libyuv-dev nodejs ffmpeg)

# Inside a private mount namespace: /proc, /dev and the checkout are bound for the command only and
# vanish with it, so nothing stays mounted on the machine if it is killed.
in_root() {
  $sudo_cmd unshare --mount --propagation private --fork bash -euo pipefail -c '
    root_dir=$1; checkout=$2; shift 2
    mount -t proc proc "$root_dir/proc"
    mount --rbind /dev "$root_dir/dev"
    mkdir -p "$root_dir$checkout" && mount --bind "$checkout" "$root_dir$checkout"
    cp /etc/resolv.conf "$root_dir/etc/resolv.conf"
    exec chroot "$root_dir" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c '\''cd "$0" && exec "$@"'\'' "$checkout" "$@"
  ' in-root "$root_dir" "$checkout" "$@"
}

if [ ! -f "$root_dir/.complete" ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    $sudo_cmd apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  started=$(date +%s)
  echo "==> debootstrap $suite into $root_dir"
  $sudo_cmd rm -rf "$root_dir" && mkdir -p "$(dirname "$root_dir")"
  $sudo_cmd debootstrap --variant=minbase "$suite" "$root_dir" http://deb.debian.org/debian >"$root_dir.log" 2>&1 ||
    { tail -30 "$root_dir.log"; exit 1; }
  if [ "$suite" = sid ]; then
    # An unstable suite's Release file is valid for a week only; a mirror serving a snapshot (as some
    # build machines' do) outlives that, and apt would then refuse every package.
    echo 'Acquire::Check-Valid-Until "false";' | $sudo_cmd tee "$root_dir/etc/apt/apt.conf.d/99abrcast-snapshot" >/dev/null
  fi
  echo "==> apt-get install ${packages[*]} (in the root)"
  in_root apt-get update -qq
  in_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >>"$root_dir.log" 2>&1 ||
    { tail -30 "$root_dir.log"; exit 1; }
  in_root apt-get clean
  $sudo_cmd touch "$root_dir/.complete"
  echo "==> $suite root ready in $(( $(date +%s) - started ))s ($(du -sh "$root_dir" | cut -f1))"
elif [ "$refresh" = 1 ]; then
  in_root apt-get update -qq
  in_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >>"$root_dir.log" 2>&1
  in_root apt-get upgrade -y -qq >>"$root_dir.log" 2>&1
  in_root apt-get clean
fi

if [ ${#run[@]} -gt 0 ]; then
  in_root "${run[@]}"
fi
