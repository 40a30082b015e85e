#include "yuv-convert.h"

#include <libyuv/convert_argb.h>

#include <vector>

namespace abrcast {

namespace {

// BT.709 (Kr 0.2126, Kb 0.0722), limited range: Y 16..235, Cb/Cr 16..240 from full-range RGB.
// Fixed point with 16 fraction bits: exact to well under half a code value.
constexpr double kKr = 0.2126;
constexpr double kKb = 0.0722;
constexpr double kKg = 1.0 - kKr - kKb;
constexpr double kLumaScale = 219.0 / 255.0 * 65536.0;
constexpr double kChromaScale = 224.0 / 255.0 * 65536.0;
constexpr int32_t fixed(double value) { return int32_t(value < 0 ? value - 0.5 : value + 0.5); }

constexpr int32_t kYR = fixed(kKr * kLumaScale);
constexpr int32_t kYG = fixed(kKg * kLumaScale);
constexpr int32_t kYB = fixed(kKb * kLumaScale);
constexpr int32_t kYOffset = (16 << 16) + (1 << 15);  // + 0.5: rounds to nearest
constexpr int32_t kUR = fixed(-kKr / (2 * (1 - kKb)) * kChromaScale);
constexpr int32_t kUG = fixed(-kKg / (2 * (1 - kKb)) * kChromaScale);
constexpr int32_t kUB = fixed(0.5 * kChromaScale);
constexpr int32_t kVR = fixed(0.5 * kChromaScale);
constexpr int32_t kVG = fixed(-kKg / (2 * (1 - kKr)) * kChromaScale);
constexpr int32_t kVB = fixed(-kKb / (2 * (1 - kKr)) * kChromaScale);
// Chroma is computed from the sum of a 2x2 block: 2 more fraction bits.
constexpr int32_t kChromaOffset = (128 << 18) + (1 << 17);

// Channel offsets within a 4-byte pixel.
struct Bgra {
  static constexpr int R = 2, G = 1, B = 0;
};
struct Rgba {
  static constexpr int R = 0, G = 1, B = 2;
};

// Plain loops over 4-byte pixels with no aliasing, so the compiler vectorises them for the target
// of the function they are inlined into.
template <typename Order>
__attribute__((always_inline)) inline void lumaRow(const uint8_t* __restrict p, uint8_t* __restrict y, int width) {
  for (int x = 0; x < width; ++x) {
    const int32_t v = kYR * p[4 * x + Order::R] + kYG * p[4 * x + Order::G] + kYB * p[4 * x + Order::B] + kYOffset;
    y[x] = uint8_t(v >> 16);
  }
}

// Chroma of `pairs` 2x2 blocks from rows a and b.
template <typename Order>
__attribute__((always_inline)) inline void chromaRow(const uint8_t* __restrict a, const uint8_t* __restrict b,
                                                     uint8_t* __restrict u, uint8_t* __restrict v, int pairs) {
  for (int i = 0; i < pairs; ++i) {
    const int32_t r = a[8 * i + Order::R] + a[8 * i + 4 + Order::R] + b[8 * i + Order::R] + b[8 * i + 4 + Order::R];
    const int32_t g = a[8 * i + Order::G] + a[8 * i + 4 + Order::G] + b[8 * i + Order::G] + b[8 * i + 4 + Order::G];
    const int32_t bl = a[8 * i + Order::B] + a[8 * i + 4 + Order::B] + b[8 * i + Order::B] + b[8 * i + 4 + Order::B];
    u[i] = uint8_t((kUR * r + kUG * g + kUB * bl + kChromaOffset) >> 18);
    v[i] = uint8_t((kVR * r + kVG * g + kVB * bl + kChromaOffset) >> 18);
  }
}

// The last column of an odd width: its block is that column in both rows, counted twice.
template <typename Order>
void chromaLastColumn(const uint8_t* a, const uint8_t* b, uint8_t* u, uint8_t* v) {
  const int32_t r = 2 * (a[Order::R] + b[Order::R]);
  const int32_t g = 2 * (a[Order::G] + b[Order::G]);
  const int32_t bl = 2 * (a[Order::B] + b[Order::B]);
  *u = uint8_t((kUR * r + kUG * g + kUB * bl + kChromaOffset) >> 18);
  *v = uint8_t((kVR * r + kVG * g + kVB * bl + kChromaOffset) >> 18);
}

// Two source rows (4-byte pixels) to two luma rows and one chroma row; b == a for an odd last row.
template <typename Order>
__attribute__((always_inline)) inline void rowPair(const uint8_t* a, const uint8_t* b, uint8_t* y0, uint8_t* y1,
                                                   uint8_t* u, uint8_t* v, int width, bool second) {
  lumaRow<Order>(a, y0, width);
  if (second) lumaRow<Order>(b, y1, width);
  chromaRow<Order>(a, b, u, v, width / 2);
  if (width & 1) chromaLastColumn<Order>(a + 4 * (width - 1), b + 4 * (width - 1), u + width / 2, v + width / 2);
}

using RowPairFunction = void (*)(const uint8_t*, const uint8_t*, uint8_t*, uint8_t*, uint8_t*, uint8_t*, int, bool);

template <typename Order>
__attribute__((target("avx2"))) void rowPairAvx2(const uint8_t* a, const uint8_t* b, uint8_t* y0, uint8_t* y1, uint8_t* u,
                                                 uint8_t* v, int width, bool second) {
  rowPair<Order>(a, b, y0, y1, u, v, width, second);
}

template <typename Order>
void rowPairBaseline(const uint8_t* a, const uint8_t* b, uint8_t* y0, uint8_t* y1, uint8_t* u, uint8_t* v, int width,
                     bool second) {
  rowPair<Order>(a, b, y0, y1, u, v, width, second);
}

template <typename Order>
RowPairFunction selectRowPair() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? &rowPairAvx2<Order> : &rowPairBaseline<Order>;
}

}  // namespace

bool isPackedRgb(AVPixelFormat format) {
  return format == AV_PIX_FMT_RGB24 || format == AV_PIX_FMT_RGBA || format == AV_PIX_FMT_BGRA;
}

void convertRgbToYuv420(const uint8_t* src, int srcPitch, AVPixelFormat format, int width, int height,
                        uint8_t* const dst[3], const int dstPitch[3]) {
  // rgb24 is unpacked to BGRA two rows at a time by libyuv's SIMD rows (its "RAW" is R,G,B in memory).
  const bool unpack = format == AV_PIX_FMT_RGB24;
  const RowPairFunction convert = format == AV_PIX_FMT_RGBA ? selectRowPair<Rgba>() : selectRowPair<Bgra>();
  std::vector<uint8_t> rows;
  if (unpack) rows.resize(size_t(width) * 8);
  for (int y = 0; y < height; y += 2) {
    const bool second = y + 1 < height;
    const uint8_t* a = src + ptrdiff_t(y) * srcPitch;
    const uint8_t* b = second ? a + srcPitch : a;
    if (unpack) {
      libyuv::RAWToARGB(a, srcPitch, rows.data(), width * 4, width, second ? 2 : 1);
      a = rows.data();
      b = second ? a + width * 4 : a;
    }
    convert(a, b, dst[0] + ptrdiff_t(y) * dstPitch[0], dst[0] + ptrdiff_t(y + (second ? 1 : 0)) * dstPitch[0],
            dst[1] + ptrdiff_t(y / 2) * dstPitch[1], dst[2] + ptrdiff_t(y / 2) * dstPitch[2], width, second);
  }
}

}  // namespace abrcast
