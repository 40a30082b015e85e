// Lanczos (3 lobes) downscaling of one 8-bit plane by exactly 2:1 or 3:2 on each axis: the ratios
// of the default ladders (1080 -> 720, 720 -> 360 and 480, their chroma planes). swscale filters
// each output with a dot product over its own window, gathered (FFmpeg 5.1: 88 % of its lanczos
// time in that horizontal pass, about 16 instructions per output); at these ratios the filter
// repeats every 1 or 2 outputs, so the AVX2 kernels here apply two taps to 8 outputs per vpmaddwd
// (about 3 instructions per output). Same convention as swscale's lanczos (centres aligned, edges
// replicated), with Q14 coefficients both ways and a 32-bit vertical sum: within rounding of
// swscale's accurate_rnd picture (docs/performance.md). Other ratios and algorithms stay on swscale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace abrcast {

// One axis of the scale: for each output, the first input of its window and `taps` coefficients
// (Q14, summing to exactly 1 << 14). Windows at the edges are moved inside, the weight of inputs
// beyond an edge folded onto the edge input (as replicating the edge would).
struct LanczosAxis {
  // Whether `from` -> `to` is 2:1 or 3:2 (and large enough for the kernels).
  static bool handles(int from, int to) { return to >= 16 && (to * 2 == from || to * 3 == from * 2); }
  LanczosAxis(int from, int to);

  int from;
  int to;
  int taps;    // 12 for 2:1, 10 for 3:2 (its 9 taps and a 0, for pairs)
  int period;  // outputs per repeat of the filter: 1 (2:1) or 2 (3:2)
  std::vector<int> first;
  std::vector<int16_t> coef;  // `to` x `taps`
  // Outputs [interiorBegin, interiorEnd): windows not moved, so the filter repeats every `period`
  // outputs (interiorBegin is a multiple of it, and so is the run's length).
  int interiorBegin = 0;
  int interiorEnd = 0;
};

class LanczosPlaneScaler {
 public:
  // Whether a plane of srcW x srcH scales to dstW x dstH here.
  static bool handles(int srcW, int srcH, int dstW, int dstH) {
    return LanczosAxis::handles(srcW, dstW) && LanczosAxis::handles(srcH, dstH);
  }
  // Whether this CPU has the kernels (AVX2). Without them swscale, with its own SIMD, is faster.
  static bool fast();
  // `simd`: the AVX2 kernels where the CPU has them (false: the portable loops, which give the same bytes).
  LanczosPlaneScaler(int srcW, int srcH, int dstW, int dstH, bool simd = true);

  // int16 values of scratch space scale() needs.
  size_t scratchSize() const { return size_t(kRing) * size_t(rowWords_); }

  // Writes rows [top, bottom) of the dstW x dstH plane `dst`, reading the rows of `src` they need.
  // Bands on other threads, each with its own scratch, may write other rows at the same time.
  // Memory: src may be read up to 3 bytes past the last byte of a row (FFmpeg's frames have that
  // padding after their last row); dst rows are written up to dstW rounded up to 16 bytes.
  void scale(const uint8_t* src, int srcPitch, uint8_t* dst, int dstPitch, int top, int bottom, int16_t* scratch) const;

 private:
  static constexpr int kRing = 16;  // horizontally scaled rows kept: the vertical window's 12, rounded up

  void horizontal(const uint8_t* src, int16_t* out) const;
  void vertical(const int16_t* const* rows, const int16_t* coef, uint8_t* out) const;

  LanczosAxis x_;
  LanczosAxis y_;
  int rowWords_;  // int16 per horizontally scaled row: dstW rounded up to 16
  bool avx2_;
};

}  // namespace abrcast
