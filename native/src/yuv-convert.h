// Packed RGB (write()'s rgb24, rgba, bgra) to BT.709 limited-range YUV 4:2:0 on the CPU, vectorised.
// libyuv (this version) only knows BT.601 and full-range JPEG matrices for RGB->YUV, so the matrix
// step is our own: AVX2 intrinsics where the CPU has it, otherwise loops that the compiler vectorises
// (SSE2, NEON); libyuv's SIMD rows unpack rgb24 to 4-byte pixels first. Chroma is filtered as swscale's `bilinear`
// conversion does it (yuv-convert.cc says why, and test/encoder/rgb-to-yuv.test.ts checks it).
#pragma once

#include <cstdint>

extern "C" {
#include <libavutil/pixfmt.h>
}

namespace abrcast {

// Whether convertRgbToYuv420 takes this format.
bool isPackedRgb(AVPixelFormat format);

// Converts rows [top, bottom) (top even; bottom -1: height) of the width x height picture `src`
// (`srcPitch` bytes per row, any value) into the three planes of `dst`; rows just outside the band
// are read for chroma, so bands may run in parallel. Reads no byte past the last pixel of the last row.
void convertRgbToYuv420(const uint8_t* src, int srcPitch, AVPixelFormat format, int width, int height,
                        uint8_t* const dst[3], const int dstPitch[3], int top = 0, int bottom = -1);

}  // namespace abrcast
