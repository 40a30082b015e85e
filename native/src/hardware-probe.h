// Finds out once whether the GPU path can run: a CUDA device, and an NVENC
// session at the ladder's smallest size. Compiled into every build; where no
// driver is present the probe just reports why.
#pragma once

#include <string>

#include "ffmpeg.h"

namespace abrcast {

struct HardwareReport {
  bool cuda = false;
  bool nvenc = false;
  std::string device;  // GPU name when CUDA works
  std::string reason;  // why nvenc is false
};

HardwareReport probeHardware(int width, int height);

}  // namespace abrcast
