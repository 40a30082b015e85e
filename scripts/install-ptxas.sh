#!/usr/bin/env bash
# Fetches NVIDIA's PTX assembler (ptxas, from the nvidia-cuda-nvcc-cu12 wheel on PyPI) into
# .tools/bin/ptxas, so the tests can assemble the device-frame kernel's PTX for real GPU
# generations without a GPU or a CUDA toolkit. Optional: without pip or a network it says so
# and exits 0, and that test is skipped with the reason.
set -euo pipefail
version=12.9.86
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.tools/bin/ptxas"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/abrcast/ptxas-${version}/ptxas"

if [ -x "$dest" ] && "$dest" --version 2>/dev/null | grep -q "V${version}"; then
  echo "ptxas ${version} already at $dest"; exit 0
fi
mkdir -p "$(dirname "$dest")"
if [ -x "$cache" ]; then
  cp "$cache" "$dest"; echo "ptxas ${version} copied from $cache"; exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "ptxas not installed: needs python3 with pip (the PTX assembly test will be skipped)" >&2; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: "nvidia-cuda-nvcc-cu12==${version}" -d "$work" >&2; then
  echo "ptxas not installed: pip could not fetch nvidia-cuda-nvcc-cu12==${version} (the PTX assembly test will be skipped)" >&2; exit 0
fi
python3 - "$work"/nvidia_cuda_nvcc_cu12-*.whl "$work/ptxas" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[2], 'wb') as out:
    out.write(wheel.read('nvidia/cuda_nvcc/bin/ptxas'))
PY
chmod +x "$work/ptxas"
mkdir -p "$(dirname "$cache")" && cp "$work/ptxas" "$cache" && cp "$work/ptxas" "$dest"
echo "ptxas ${version} installed at $dest"
