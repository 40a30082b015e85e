#include "lanczos-plane-scaler.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ABRCAST_LANCZOS_AVX2 1
#endif

namespace abrcast {

namespace {

bool hasAvx2() {
#ifdef ABRCAST_LANCZOS_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
#else
  return false;
#endif
}

constexpr double kPi = 3.14159265358979323846;
constexpr int kLobes = 3;

double lanczos(double d) {
  d = std::fabs(d);
  if (d < 1e-9) return 1.0;
  if (d >= kLobes) return 0.0;
  return kLobes * std::sin(kPi * d) * std::sin(kPi * d / kLobes) / (kPi * kPi * d * d);
}

// Both passes: Q14 coefficients. Horizontal: 8-bit samples in, the sample x 128 out (swscale's
// 15-bit intermediate); vertical: summed in 32 bits, rounded once to 8 bits.
constexpr int kCoefBits = 14;
constexpr int kInterShift = 7;                 // (sum + round) >> 7: the sample x 128
constexpr int kOutShift = kCoefBits + kInterShift;  // vertical: Q14 x Q7 -> >> 21

}  // namespace

LanczosAxis::LanczosAxis(int from_, int to_) : from(from_), to(to_) {
  const bool half = to * 2 == from;
  period = half ? 1 : 2;
  taps = half ? 12 : 10;
  const double ratio = double(from) / to;
  first.resize(size_t(to));
  coef.assign(size_t(to) * taps, 0);
  std::vector<double> weight(static_cast<size_t>(taps));
  for (int i = 0; i < to; ++i) {
    // Output i's centre in input samples, centres aligned (swscale's and ffmpeg's convention).
    const double centre = (i + 0.5) * ratio - 0.5;
    const int start = int(std::floor(centre - kLobes * ratio)) + 1;  // first sample with a non-zero weight
    // The window of `taps` samples from `start` (one more than the support for 3:2: its last weight is 0).
    double sum = 0;
    for (int k = 0; k < taps; ++k) {
      weight[size_t(k)] = lanczos((start + k - centre) / ratio);
      sum += weight[size_t(k)];
    }
    // Shifted inside the plane; weights beyond an edge go to the edge sample.
    const int inside = std::clamp(start, 0, from - taps);
    std::vector<double> folded(static_cast<size_t>(taps), 0.0);
    for (int k = 0; k < taps; ++k) folded[size_t(std::clamp(start + k, 0, from - 1) - inside)] += weight[size_t(k)] / sum;
    // Q14 by cumulative rounding: the coefficients sum to exactly 1 << 14.
    double cumulative = 0;
    int previous = 0;
    for (int k = 0; k < taps; ++k) {
      cumulative += folded[size_t(k)];
      const int rounded = int(std::lround(cumulative * (1 << kCoefBits)));
      coef[size_t(i) * taps + k] = int16_t(rounded - previous);
      previous = rounded;
    }
    first[size_t(i)] = inside;
  }
  // The periodic run: outputs whose window was not shifted, from the first whole period to the last.
  auto periodic = [&](int i) {
    const double centre = (i + 0.5) * ratio - 0.5;
    const int start = int(std::floor(centre - kLobes * ratio)) + 1;
    return start >= 0 && start + taps <= from;
  };
  interiorBegin = 0;
  while (interiorBegin < to && (!periodic(interiorBegin) || interiorBegin % period != 0)) ++interiorBegin;
  interiorEnd = interiorBegin;
  while (interiorEnd < to && periodic(interiorEnd)) ++interiorEnd;
  interiorEnd -= (interiorEnd - interiorBegin) % period;
}

bool LanczosPlaneScaler::fast() { return hasAvx2(); }

LanczosPlaneScaler::LanczosPlaneScaler(int srcW, int srcH, int dstW, int dstH, bool simd)
    : x_(srcW, dstW), y_(srcH, dstH), rowWords_((dstW + 15) & ~15), avx2_(simd && hasAvx2()) {}

namespace {

void horizontalScalar(const LanczosAxis& x, const uint8_t* src, int16_t* out, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    const uint8_t* s = src + x.first[size_t(i)];
    const int16_t* c = &x.coef[size_t(i) * x.taps];
    int32_t sum = 0;
    for (int k = 0; k < x.taps; ++k) sum += int32_t(c[k]) * s[k];
    out[i] = int16_t(std::clamp((sum + (1 << (kInterShift - 1))) >> kInterShift, -32768, 32767));
  }
}

void verticalScalar(const int16_t* const* rows, const int16_t* c, int taps, uint8_t* out, int begin, int end) {
  for (int i = begin; i < end; ++i) {
    int32_t sum = 0;
    for (int k = 0; k < taps; ++k) sum += int32_t(c[k]) * rows[k][i];
    out[i] = uint8_t(std::clamp((sum + (1 << (kOutShift - 1))) >> kOutShift, 0, 255));
  }
}

#ifdef ABRCAST_LANCZOS_AVX2
__attribute__((target("avx2"))) inline __m256i pairOf(const int16_t* c) {
  return _mm256_set1_epi32(int32_t(uint16_t(c[0])) | int32_t(uint32_t(uint16_t(c[1])) << 16));
}

// The kernels take blocks of 16 outputs over [begin, end) (end - begin >= 16, a multiple of the
// period): the last block is moved back to end there, recomputing a few outputs, so none is left
// to scalar code.

// 2:1: output i reads src[2i + f ...]: the pairs (s[2i + 2p], s[2i + 2p + 1]) of 8 outputs are the
// dwords of 16 zero-extended bytes, so one vpmaddwd applies two taps to 8 outputs. Reads only the
// outputs' windows.
__attribute__((target("avx2"))) void horizontalHalfAvx2(const LanczosAxis& x, const uint8_t* src, int16_t* out, int begin,
                                                        int end) {
  const int16_t* c = &x.coef[size_t(begin) * x.taps];
  __m256i pair[6];
  for (int p = 0; p < 6; ++p) pair[p] = pairOf(c + 2 * p);
  for (int next = begin; next < end; next += 16) {
    const int i = std::min(next, end - 16);
    const uint8_t* s = src + x.first[size_t(i)];
    __m256i a = _mm256_set1_epi32(1 << (kInterShift - 1)), b = a;
#pragma GCC unroll 6
    for (int p = 0; p < 6; ++p) {
      a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 2 * p))), pair[p]));
      b = _mm256_add_epi32(b, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16 + 2 * p))), pair[p]));
    }
    const __m256i packed = _mm256_packs_epi32(_mm256_srai_epi32(a, kInterShift), _mm256_srai_epi32(b, kInterShift));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permute4x64_epi64(packed, 0xD8));
  }
}

// One phase of 8 outputs of the 3:2 kernel below, from its first window `s`.
__attribute__((target("avx2"), always_inline)) inline __m256i thirdPhase(const uint8_t* s, const __m256i* pair, __m256i pick0,
                                                                        __m256i pick2, __m256i pick4, __m256i round) {
  const __m256i near = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(s + 12), reinterpret_cast<const __m128i*>(s));
  const __m256i far = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(s + 18), reinterpret_cast<const __m128i*>(s + 6));
  __m256i sum = _mm256_add_epi32(round, _mm256_madd_epi16(_mm256_shuffle_epi8(near, pick0), pair[0]));
  sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_shuffle_epi8(near, pick2), pair[1]));
  sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_shuffle_epi8(near, pick4), pair[2]));
  sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_shuffle_epi8(far, pick0), pair[3]));
  sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_shuffle_epi8(far, pick2), pair[4]));
  return _mm256_srai_epi32(sum, kInterShift);
}

// 3:2: even outputs 2m read src[3m + fa ...], odd ones src[3m + fb ...] (10 taps, the last 0). The
// pairs (s[3m + 2p], s[3m + 2p + 1]) of 4 consecutive m lie in 16 bytes, picked with one vpshufb:
// two loads per phase and lane cover the 5 pairs (offsets 0, 2, 4 from the first, 0, 2 from the
// second, 6 bytes on). Reads up to 3 bytes past the last window (never used): the planes must have
// them (FFmpeg's input padding after the last row).
__attribute__((target("avx2"))) void horizontalThirdAvx2(const LanczosAxis& x, const uint8_t* src, int16_t* out, int begin,
                                                         int end) {
  const int16_t* ca = &x.coef[size_t(begin) * x.taps];
  const int16_t* cb = ca + x.taps;
  __m256i pairA[5], pairB[5];
  for (int p = 0; p < 5; ++p) {
    pairA[p] = pairOf(ca + 2 * p);
    pairB[p] = pairOf(cb + 2 * p);
  }
  const __m256i pick0 = _mm256_setr_epi8(0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1,  //
                                         0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1);
  const __m256i pick2 = _mm256_add_epi8(pick0, _mm256_set1_epi16(2));
  const __m256i pick4 = _mm256_add_epi8(pick0, _mm256_set1_epi16(4));
  // Words E0-3 O0-3 | E4-7 O4-7 interleaved to E0 O0 E1 O1 ...
  const __m256i interleave = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,  //
                                              0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
  const __m256i round = _mm256_set1_epi32(1 << (kInterShift - 1));
  for (int next = begin; next < end; next += 16) {
    const int i = std::min(next, end - 16);
    const __m256i even = thirdPhase(src + x.first[size_t(i)], pairA, pick0, pick2, pick4, round);
    const __m256i odd = thirdPhase(src + x.first[size_t(i) + 1], pairB, pick0, pick2, pick4, round);
    const __m256i packed = _mm256_packs_epi32(even, odd);  // E0-3 O0-3 | E4-7 O4-7
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_shuffle_epi8(packed, interleave));
  }
}

// 16 outputs a step: rows paired word by word, two taps per vpmaddwd, summed in 32 bits.
template <int Taps>
__attribute__((target("avx2"))) void verticalAvx2(const int16_t* const* rows, const int16_t* c, uint8_t* out, int width) {
  const __m256i round = _mm256_set1_epi32(1 << (kOutShift - 1));
  __m256i pair[Taps / 2];
  const int16_t* row[Taps];
  for (int k = 0; k < Taps; ++k) row[k] = rows[k];
  for (int p = 0; p < Taps / 2; ++p) pair[p] = pairOf(c + 2 * p);
  for (int i = 0; i < width; i += 16) {
    __m256i lo = round, hi = round;
#pragma GCC unroll 6
    for (int p = 0; p < Taps / 2; ++p) {
      const __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[2 * p] + i));
      const __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[2 * p + 1] + i));
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(r0, r1), pair[p]));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(r0, r1), pair[p]));
    }
    const __m256i words = _mm256_packs_epi32(_mm256_srai_epi32(lo, kOutShift), _mm256_srai_epi32(hi, kOutShift));
    const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(words, words), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_castsi256_si128(bytes));
  }
}
#endif

}  // namespace

void LanczosPlaneScaler::horizontal(const uint8_t* src, int16_t* out) const {
#ifdef ABRCAST_LANCZOS_AVX2
  if (avx2_ && x_.interiorEnd - x_.interiorBegin >= 16) {
    horizontalScalar(x_, src, out, 0, x_.interiorBegin);
    if (x_.period == 1) horizontalHalfAvx2(x_, src, out, x_.interiorBegin, x_.interiorEnd);
    else horizontalThirdAvx2(x_, src, out, x_.interiorBegin, x_.interiorEnd);
    horizontalScalar(x_, src, out, x_.interiorEnd, x_.to);
    return;
  }
#endif
  horizontalScalar(x_, src, out, 0, x_.to);
}

void LanczosPlaneScaler::vertical(const int16_t* const* rows, const int16_t* coef, uint8_t* out) const {
#ifdef ABRCAST_LANCZOS_AVX2
  if (avx2_) {
    if (y_.taps == 12) verticalAvx2<12>(rows, coef, out, x_.to);
    else verticalAvx2<10>(rows, coef, out, x_.to);
    return;
  }
#endif
  verticalScalar(rows, coef, y_.taps, out, 0, x_.to);
}

void LanczosPlaneScaler::scale(const uint8_t* src, int srcPitch, uint8_t* dst, int dstPitch, int top, int bottom,
                               int16_t* scratch) const {
  // A ring of horizontally scaled rows, slot (row % kRing) for input row `row`. The words after
  // dstW in each are read by the vertical kernel (their outputs land in dst's row padding): zeroed.
  int slotRow[kRing];
  std::fill(std::begin(slotRow), std::end(slotRow), -1);
  for (int slot = 0; slot < kRing; ++slot) {
    std::fill(scratch + size_t(slot) * rowWords_ + x_.to, scratch + size_t(slot + 1) * rowWords_, int16_t(0));
  }
  const int16_t* rows[kRing];
  for (int y = top; y < bottom; ++y) {
    const int firstRow = y_.first[size_t(y)];
    for (int k = 0; k < y_.taps; ++k) {
      const int row = firstRow + k;
      const int slot = row % kRing;
      int16_t* line = scratch + size_t(slot) * rowWords_;
      if (slotRow[slot] != row) {
        horizontal(src + ptrdiff_t(row) * srcPitch, line);
        slotRow[slot] = row;
      }
      rows[k] = line;
    }
    vertical(rows, &y_.coef[size_t(y) * y_.taps], dst + ptrdiff_t(y) * dstPitch);
  }
}

}  // namespace abrcast
