// Copies the options object that TS validated into the plain EncoderConfig the
// worker threads read. Runs on the JS thread; nothing Napi outlives it.
#pragma once

#include <napi.h>

#include <cstdint>

#include "config.h"

namespace abrcast {

EncoderConfig readConfig(const Napi::Object& options);

// A frame in CUDA device memory, as TS validated it: { cudaDevicePtr: bigint, pitch: number }.
struct DeviceFrame {
  uint64_t pointer = 0;
  size_t pitch = 0;
};
DeviceFrame readDeviceFrame(const Napi::Value& value);

}  // namespace abrcast
