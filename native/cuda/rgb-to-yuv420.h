// Packed RGB (8 bits a channel, full range) to BT.709 limited-range YUV 4:2:0, one 2x2 block
// per call: four luma samples and the chroma pair they share, which is their block's mean. The
// CPU path gets the same picture, to within 1 a sample, from swscale
// (`scale=out_color_matrix=bt709:out_range=tv:flags=area`).
//
// Compiled twice: into the CUDA kernel (rgb-to-yuv420.cu, shipped as PTX) and on the host by
// the check that compares it with swscale. Integer arithmetic only, so both give the same bytes.
#pragma once

#ifndef ABRCAST_HOST_DEVICE
#define ABRCAST_HOST_DEVICE
#endif

namespace abrcast {
namespace rgb_to_yuv420 {

// BT.709 (Kr 0.2126, Kb 0.0722) scaled to 16..235 / 16..240, in 1/65536 steps. Each chroma
// row sums to 0, so grey stays at 128; the luma row sums to 219/255.
constexpr int kYR = 11966, kYG = 40254, kYB = 4064;
constexpr int kUR = -6596, kUG = -22188, kUB = 28784;
constexpr int kVR = 28784, kVG = -26145, kVB = -2639;

struct PackedRgb {
  const unsigned char* data;
  long long pitch;
  int bytesPerPixel;  // 3 or 4
  int red, green, blue;  // byte index of each channel within a pixel
};

struct Yuv420Planes {
  unsigned char* y;
  long long yPitch;
  unsigned char* u;
  long long uPitch;
  unsigned char* v;
  long long vPitch;
};

ABRCAST_HOST_DEVICE inline unsigned char clampByte(int value) {
  return (unsigned char)(value < 0 ? 0 : value > 255 ? 255 : value);
}

// The block whose chroma sample is (cx, cy): pixels (2cx..2cx+1, 2cy..2cy+1). The picture's
// width and height are even (the encoder options require it).
ABRCAST_HOST_DEVICE inline void convertBlock(const PackedRgb& src, const Yuv420Planes& dst, int cx, int cy) {
  int sumR = 0, sumG = 0, sumB = 0;
  for (int dy = 0; dy < 2; ++dy) {
    const int row = 2 * cy + dy;
    const unsigned char* pixel = src.data + row * src.pitch + 2 * cx * src.bytesPerPixel;
    unsigned char* luma = dst.y + row * dst.yPitch + 2 * cx;
    for (int dx = 0; dx < 2; ++dx, pixel += src.bytesPerPixel) {
      const int r = pixel[src.red], g = pixel[src.green], b = pixel[src.blue];
      luma[dx] = clampByte((kYR * r + kYG * g + kYB * b + (16 << 16) + (1 << 15)) >> 16);
      sumR += r;
      sumG += g;
      sumB += b;
    }
  }
  // Chroma from the block's mean colour: the sums are 4x, hence 2 more bits of shift.
  const int offset = (128 << 18) + (1 << 17);
  dst.u[cy * dst.uPitch + cx] = clampByte((kUR * sumR + kUG * sumG + kUB * sumB + offset) >> 18);
  dst.v[cy * dst.vPitch + cx] = clampByte((kVR * sumR + kVG * sumG + kVB * sumB + offset) >> 18);
}

}  // namespace rgb_to_yuv420
}  // namespace abrcast
