// The ladder's YUV frames on the CPU path: BT.709 limited-range 4:2:0 (what the encoders are
// tagged with), rows 64-byte aligned for SIMD, with FFmpeg's input padding after the last row,
// taken from a pool. Written by the RGB conversion (PushedFrameSource, RenditionScaler) and the
// per-rendition scalers alike.
#pragma once

#include <cstddef>

#include "ffmpeg.h"

namespace abrcast {

// A pool of buffers for width x height frames.
BufferPoolPtr ladderYuvPool(int width, int height);

// A frame from `pool` (made by ladderYuvPool for the same size); pts unset.
FramePtr ladderYuvFrame(AVBufferPool* pool, int width, int height);

}  // namespace abrcast
