// scaleLadderFrame(config, frame, useCuda): one frame through the ladder's
// filter graph, CPU or CUDA, with the scaled YUV frames returned to JS. It
// lets the GPU path's scale_cuda output be compared with swscale's on a
// machine that has CUDA but no NVENC (an H100, say), and gives a still of
// each rendition without encoding.
#pragma once

#include <napi.h>

namespace abrcast {

Napi::Value ScaleLadderFrame(const Napi::CallbackInfo& info);

}  // namespace abrcast
