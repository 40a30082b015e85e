// Packed RGB (write()'s rgb24, rgba, bgra) to BT.709 limited-range YUV 4:2:0 on the CPU, vectorised.
// libyuv (this version) only knows BT.601 and full-range JPEG matrices for RGB->YUV, so the matrix
// step is our own loop that the compiler vectorises (AVX2 where the CPU has it, SSE2 otherwise);
// libyuv's SIMD rows unpack rgb24 to 4-byte pixels first. Each chroma sample is the mean of its
// 2x2 block, as swscale's `area` conversion and the CUDA kernel (native/cuda/rgb-to-yuv420.h) make it.
#pragma once

#include <cstdint>

extern "C" {
#include <libavutil/pixfmt.h>
}

namespace abrcast {

// Whether convertRgbToYuv420 takes this format.
bool isPackedRgb(AVPixelFormat format);

// Converts width x height pixels of `src` (`srcPitch` bytes per row, any value) into the three planes
// of `dst`. Odd sizes: the last column/row's chroma comes from that column/row alone.
// Reads no byte past the last pixel of the last row; thread-safe.
void convertRgbToYuv420(const uint8_t* src, int srcPitch, AVPixelFormat format, int width, int height,
                        uint8_t* const dst[3], const int dstPitch[3]);

}  // namespace abrcast
