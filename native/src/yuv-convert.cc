#include "yuv-convert.h"

#include <libyuv/convert_argb.h>

#include <algorithm>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

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

// Chroma at half width and height, as swscale's `bilinear` makes it from RGB: each pair of
// columns averaged, then rows (r0, r1, r2, r3) = (y-1, y, y+1, y+2) weighted 1, 3, 3, 1 (the
// triangle filter of a 2:1 downscale, centred between rows y and y+1). Measured against the 2x2
// mean (`area`, libyuv's way): at the same bitrate x264 spends fewer bits on aliased chroma detail
// and luma gains 1.1 dB PSNR (bench content, 1080p, ultrafast).
constexpr int kChromaShift = 16 + 4;  // 16 fraction bits; weights sum to 16
constexpr int32_t kChromaOffset = (128 << kChromaShift) + (1 << (kChromaShift - 1));

struct ChromaRows {
  const uint8_t* r0;
  const uint8_t* r1;
  const uint8_t* r2;
  const uint8_t* r3;
};

template <typename Order>
__attribute__((always_inline)) inline void chromaRow(ChromaRows rows, uint8_t* __restrict u, uint8_t* __restrict v,
                                                     int pairs) {
  const uint8_t* __restrict r0 = rows.r0;
  const uint8_t* __restrict r1 = rows.r1;
  const uint8_t* __restrict r2 = rows.r2;
  const uint8_t* __restrict r3 = rows.r3;
  for (int i = 0; i < pairs; ++i) {
    const int o = 8 * i;
    const int32_t r = r0[o + Order::R] + r0[o + 4 + Order::R] + r3[o + Order::R] + r3[o + 4 + Order::R] +
                      3 * (r1[o + Order::R] + r1[o + 4 + Order::R] + r2[o + Order::R] + r2[o + 4 + Order::R]);
    const int32_t g = r0[o + Order::G] + r0[o + 4 + Order::G] + r3[o + Order::G] + r3[o + 4 + Order::G] +
                      3 * (r1[o + Order::G] + r1[o + 4 + Order::G] + r2[o + Order::G] + r2[o + 4 + Order::G]);
    const int32_t b = r0[o + Order::B] + r0[o + 4 + Order::B] + r3[o + Order::B] + r3[o + 4 + Order::B] +
                      3 * (r1[o + Order::B] + r1[o + 4 + Order::B] + r2[o + Order::B] + r2[o + 4 + Order::B]);
    u[i] = uint8_t((kUR * r + kUG * g + kUB * b + kChromaOffset) >> kChromaShift);
    v[i] = uint8_t((kVR * r + kVG * g + kVB * b + kChromaOffset) >> kChromaShift);
  }
}

// The last column of an odd width: its pair is that column twice.
template <typename Order>
void chromaLastColumn(ChromaRows rows, int x, uint8_t* u, uint8_t* v) {
  auto weighted = [&](int c) {
    return 2 * (rows.r0[4 * x + c] + rows.r3[4 * x + c] + 3 * (rows.r1[4 * x + c] + rows.r2[4 * x + c]));
  };
  const int32_t r = weighted(Order::R), g = weighted(Order::G), b = weighted(Order::B);
  *u = uint8_t((kUR * r + kUG * g + kUB * b + kChromaOffset) >> kChromaShift);
  *v = uint8_t((kVR * r + kVG * g + kVB * b + kChromaOffset) >> kChromaShift);
}

// Two luma rows (rows.r1, rows.r2; one when `second` is false) and the chroma row between them.
template <typename Order>
__attribute__((always_inline)) inline void rowPair(ChromaRows rows, uint8_t* y0, uint8_t* y1, uint8_t* u, uint8_t* v,
                                                   int width, bool second) {
  lumaRow<Order>(rows.r1, y0, width);
  if (second) lumaRow<Order>(rows.r2, y1, width);
  chromaRow<Order>(rows, u, v, width / 2);
  if (width & 1) chromaLastColumn<Order>(rows, width - 1, u + width / 2, v + width / 2);
}

using RowPairFunction = void (*)(ChromaRows, uint8_t*, uint8_t*, uint8_t*, uint8_t*, int, bool);

// x86-64: AVX2 rows chosen at run time, written with intrinsics: the compiler's vectorisation of
// the plain loops spent most of its time taking 4-byte pixels apart (2.2 ms per 1080p rgb24 frame,
// 1.3 ms with these, on the bench machine). The baseline is SSE2. aarch64: NEON is in the baseline
// ISA, so the plain loops are vectorised with it. Integer math either way; the AVX2 rows use 15-bit
// coefficients (16-bit in the plain loops, so that they fit vpmaddwd's int16), which moved 0.1-0.4 %
// of the chroma samples of a bench frame by 1 and no luma sample; both are within 0.02 of the exact
// value before rounding.
#if defined(__x86_64__) || defined(__i386__)
#define ABRCAST_ROW_PAIR_AVX2 1

constexpr int16_t q15(double v) { return int16_t(v < 0 ? v * 32768.0 - 0.5 : v * 32768.0 + 0.5); }
// The four channel coefficients of a 4-byte pixel, as int16, in every 64 bits.
__attribute__((target("avx2"))) inline __m256i perPixel(const int16_t c[4]) {
  return _mm256_set1_epi64x(int64_t(uint16_t(c[0])) | int64_t(uint16_t(c[1])) << 16 | int64_t(uint16_t(c[2])) << 32 |
                            int64_t(uint16_t(c[3])) << 48);
}

// Luma of 16 pixels a step with vpmaddwd.
template <typename Order>
__attribute__((target("avx2"))) void lumaRowAvx2(const uint8_t* __restrict p, uint8_t* __restrict y, int width) {
  int16_t c[4] = {0, 0, 0, 0};
  c[Order::R] = q15(kKr * 219.0 / 255.0);
  c[Order::G] = q15(kKg * 219.0 / 255.0);
  c[Order::B] = q15(kKb * 219.0 / 255.0);
  const __m256i coef = perPixel(c);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i offset = _mm256_set1_epi32((16 << 15) + (1 << 14));
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4 * x));       // pixels 0-7
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4 * x + 32));  // pixels 8-15
    // Per pixel two int32 halves (B*cB + G*cG, R*cR + A*0), summed by hadd: lanes [0 1 | 4 5], [2 3 | 6 7]...
    const __m256i a0 = _mm256_madd_epi16(_mm256_unpacklo_epi8(a, zero), coef);  // px 0,1 | 4,5
    const __m256i a1 = _mm256_madd_epi16(_mm256_unpackhi_epi8(a, zero), coef);  // px 2,3 | 6,7
    const __m256i b0 = _mm256_madd_epi16(_mm256_unpacklo_epi8(b, zero), coef);
    const __m256i b1 = _mm256_madd_epi16(_mm256_unpackhi_epi8(b, zero), coef);
    const __m256i ya = _mm256_srai_epi32(_mm256_add_epi32(_mm256_hadd_epi32(a0, a1), offset), 15);  // px 0 1 2 3 | 4 5 6 7
    const __m256i yb = _mm256_srai_epi32(_mm256_add_epi32(_mm256_hadd_epi32(b0, b1), offset), 15);  // px 8..11 | 12..15
    const __m256i w = _mm256_packs_epi32(ya, yb);   // 0-3 8-11 | 4-7 12-15
    const __m256i bytes = _mm256_packus_epi16(w, w);  // 0-3 8-11 0-3 8-11 | 4-7 12-15 ...
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + x), _mm256_castsi256_si128(ordered));
  }
  for (; x < width; ++x) {
    const int32_t v = c[0] * p[4 * x] + c[1] * p[4 * x + 1] + c[2] * p[4 * x + 2] + (16 << 15) + (1 << 14);
    y[x] = uint8_t(v >> 15);
  }
}

// Chroma of 8 column pairs a step: rows weighted 1 3 3 1 and pairs summed in 16 bits (at most
// 16 x 255), then the matrix with vpmaddwd, coefficients with 15 fraction bits.
template <typename Order>
__attribute__((target("avx2"))) void chromaRowAvx2(ChromaRows rows, uint8_t* __restrict u, uint8_t* __restrict v,
                                                   int pairs) {
  int16_t cu[4] = {0, 0, 0, 0}, cv[4] = {0, 0, 0, 0};
  const double chroma = 224.0 / 255.0;
  cu[Order::R] = q15(-kKr / (2 * (1 - kKb)) * chroma);
  cu[Order::B] = q15(0.5 * chroma);
  cv[Order::R] = q15(0.5 * chroma);
  cv[Order::B] = q15(-kKb / (2 * (1 - kKr)) * chroma);
  // Each row sums to 0, so grey stays exactly 128.
  cu[Order::G] = int16_t(-cu[Order::R] - cu[Order::B]);
  cv[Order::G] = int16_t(-cv[Order::R] - cv[Order::B]);
  const __m256i coefU = perPixel(cu), coefV = perPixel(cv);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i offset = _mm256_set1_epi32((128 << 19) + (1 << 18));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const uint8_t* r[4] = {rows.r0, rows.r1, rows.r2, rows.r3};
  int i = 0;
  for (; i + 8 <= pairs; i += 8) {
    // s[h]: 16-bit weighted row sums of pixels (0,1 | 4,5), (2,3 | 6,7), (8,9 | 12,13), (10,11 | 14,15).
    __m256i s[4];
    for (int h = 0; h < 4; ++h) {
      __m256i sum = zero;
      for (int k = 0; k < 4; ++k) {
        const __m256i px = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r[k] + 8 * i + (h >> 1) * 32));
        const __m256i w = (h & 1) ? _mm256_unpackhi_epi8(px, zero) : _mm256_unpacklo_epi8(px, zero);
        sum = _mm256_add_epi16(sum, (k == 1 || k == 2) ? _mm256_add_epi16(w, _mm256_add_epi16(w, w)) : w);
      }
      s[h] = _mm256_add_epi16(sum, _mm256_srli_si256(sum, 8));  // pair sum in the low 4 words of each lane
    }
    // Pair sums: a = pairs (0, 1 | 2, 3), b = (4, 5 | 6, 7), as B G R A words.
    const __m256i a = _mm256_unpacklo_epi64(s[0], s[1]);
    const __m256i b = _mm256_unpacklo_epi64(s[2], s[3]);
    const __m256i lo = _mm256_permute2x128_si256(a, b, 0x20);  // pairs 0 1 4 5 -> as chroma 0 1 | 4 5
    const __m256i hi = _mm256_permute2x128_si256(a, b, 0x31);  // chroma 2 3 | 6 7
    const __m256i su = _mm256_hadd_epi32(_mm256_madd_epi16(lo, coefU), _mm256_madd_epi16(hi, coefU));  // 0-3 | 4-7
    const __m256i sv = _mm256_hadd_epi32(_mm256_madd_epi16(lo, coefV), _mm256_madd_epi16(hi, coefV));
    const __m256i uu = _mm256_srai_epi32(_mm256_add_epi32(su, offset), 19);
    const __m256i vv = _mm256_srai_epi32(_mm256_add_epi32(sv, offset), 19);
    const __m256i words = _mm256_packs_epi32(uu, vv);                 // U0-3 V0-3 | U4-7 V4-7
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), order);  // U0-7 V0-7 ...
    _mm_storel_epi64(reinterpret_cast<__m128i*>(u + i), _mm256_castsi256_si128(bytes));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(v + i), _mm_srli_si128(_mm256_castsi256_si128(bytes), 8));
  }
  if (i < pairs) {
    chromaRow<Order>(ChromaRows{rows.r0 + 8 * i, rows.r1 + 8 * i, rows.r2 + 8 * i, rows.r3 + 8 * i}, u + i, v + i,
                     pairs - i);
  }
}

template <typename Order>
__attribute__((target("avx2"))) void rowPairAvx2(ChromaRows rows, uint8_t* y0, uint8_t* y1, uint8_t* u, uint8_t* v,
                                                 int width, bool second) {
  lumaRowAvx2<Order>(rows.r1, y0, width);
  if (second) lumaRowAvx2<Order>(rows.r2, y1, width);
  chromaRowAvx2<Order>(rows, u, v, width / 2);
  if (width & 1) chromaLastColumn<Order>(rows, width - 1, u + width / 2, v + width / 2);
}
#endif

template <typename Order>
void rowPairBaseline(ChromaRows rows, uint8_t* y0, uint8_t* y1, uint8_t* u, uint8_t* v, int width, bool second) {
  rowPair<Order>(rows, y0, y1, u, v, width, second);
}

template <typename Order>
RowPairFunction selectRowPair() {
#ifdef ABRCAST_ROW_PAIR_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return &rowPairAvx2<Order>;
#endif
  return &rowPairBaseline<Order>;
}

}  // namespace

bool isPackedRgb(AVPixelFormat format) {
  return format == AV_PIX_FMT_RGB24 || format == AV_PIX_FMT_RGBA || format == AV_PIX_FMT_BGRA;
}

void convertRgbToYuv420(const uint8_t* src, int srcPitch, AVPixelFormat format, int width, int height,
                        uint8_t* const dst[3], const int dstPitch[3], int top, int bottom) {
  if (bottom < 0) bottom = height;
  // rgb24 is unpacked to BGRA by libyuv's SIMD rows (its "RAW" is R,G,B in memory) into four slots,
  // slot (y & 3) for row y: consecutive pairs share two rows, so each row is unpacked once.
  const bool unpack = format == AV_PIX_FMT_RGB24;
  const RowPairFunction convert = format == AV_PIX_FMT_RGBA ? selectRowPair<Rgba>() : selectRowPair<Bgra>();
  std::vector<uint8_t> unpacked;
  int slotRow[4] = {-1, -1, -1, -1};  // the source row each slot holds
  if (unpack) unpacked.resize(size_t(width) * 4 * 4);
  for (int y = top; y < bottom; y += 2) {
    const bool second = y + 1 < height;
    // Rows y-1 .. y+2, repeated at the picture's edges.
    const int index[4] = {std::max(y - 1, 0), y, std::min(y + 1, height - 1), std::min(y + 2, height - 1)};
    const uint8_t* row[4];
    for (int k = 0; k < 4; ++k) {
      row[k] = src + ptrdiff_t(index[k]) * srcPitch;
      if (unpack) {
        const int slot = (y - 1 + k) & 3;
        uint8_t* out = unpacked.data() + size_t(slot) * width * 4;
        if (slotRow[slot] != index[k]) {
          libyuv::RAWToARGB(row[k], width * 3, out, width * 4, width, 1);
          slotRow[slot] = index[k];
        }
        row[k] = out;
      }
    }
    convert(ChromaRows{row[0], row[1], row[2], row[3]}, dst[0] + ptrdiff_t(y) * dstPitch[0],
            dst[0] + ptrdiff_t(second ? y + 1 : y) * dstPitch[0], dst[1] + ptrdiff_t(y / 2) * dstPitch[1],
            dst[2] + ptrdiff_t(y / 2) * dstPitch[2], width, second);
  }
}

}  // namespace abrcast
