// probeMedia(source) for JS: opens the file or URL on a worker thread (a URL
// may take a while) and resolves with what it holds, or rejects naming it.
#pragma once

#include <napi.h>

namespace abrcast {

Napi::Value ProbeMedia(const Napi::CallbackInfo& info);

}  // namespace abrcast
