// Copies the options object that TS validated into the plain EncoderConfig the
// worker threads read. Runs on the JS thread; nothing Napi outlives it.
#pragma once

#include <napi.h>

#include "config.h"

namespace abrcast {

EncoderConfig readConfig(const Napi::Object& options);

}  // namespace abrcast
