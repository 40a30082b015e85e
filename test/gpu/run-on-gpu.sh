#!/usr/bin/env bash
# Builds abrcast and runs the GPU checks on a machine with an NVIDIA GPU.
# Prints the driver and GPU, the hardware probe, then the GPU tests (which
# skip what the GPU cannot do, e.g. NVENC on an H100, and say why), with the
# device-frame checks that also run without a GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || echo "nvidia-smi not found"
if [ ! -f build/Release/abrcast.node ] || [ ! -d node_modules ]; then
  bash scripts/bootstrap.sh
fi
# The NVENC tests read their segments back with ffprobe.
command -v ffprobe >/dev/null 2>&1 || echo "ffprobe not found: the NVENC segment checks will fail (apt-get install ffmpeg)" >&2
node --import tsx -e "
  import('./src/index.ts').then(async ({ probeHardware }) => {
    console.log('probeHardware():', JSON.stringify(await probeHardware()));
  });
"
node scripts/run-tests.mjs test/gpu test/encoder/options.test.ts test/encoder/cuda-frames.test.ts test/encoder/cuda-kernel-math.test.ts
