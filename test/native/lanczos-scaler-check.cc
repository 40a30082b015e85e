// Check of LanczosPlaneScaler (native/src/lanczos-plane-scaler.h), built with ASan and UBSan by
// test/native/sanitizers.test.ts: for each size, planes as tight as its contract allows (rows of
// exactly their width, 3 bytes after the last source row, destination rows of width rounded up to
// 16), scaled with the AVX2 kernels, with the portable loops, and in three bands with their own
// scratch, against a direct double-precision lanczos (centres aligned, edges replicated, the
// horizontal pass's overshoot cut at 255.99 as its 15 bits do, in swscale too), and next to
// swscale's lanczos+accurate_rnd picture of the same plane (PSNR, with swscale's default lanczos
// for comparison). Prints
// one JSON line per case; the test judges them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

extern "C" {
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include "lanczos-plane-scaler.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

double lanczos3(double d) {
  d = std::fabs(d);
  if (d < 1e-12) return 1.0;
  if (d >= 3) return 0.0;
  return 3 * std::sin(kPi * d) * std::sin(kPi * d / 3) / (kPi * kPi * d * d);
}

// Normalised weights of output i of `from` -> `to`, over input samples clamped to the edge.
std::vector<std::pair<int, double>> weights(int from, int to, int i) {
  const double ratio = double(from) / to;
  const double centre = (i + 0.5) * ratio - 0.5;
  std::vector<std::pair<int, double>> out;
  double sum = 0;
  for (int j = int(std::floor(centre - 3 * ratio)); j <= int(std::ceil(centre + 3 * ratio)); ++j) {
    const double w = lanczos3((j - centre) / ratio);
    if (w == 0) continue;
    out.emplace_back(std::clamp(j, 0, from - 1), w);
    sum += w;
  }
  for (auto& entry : out) entry.second /= sum;
  return out;
}

std::vector<double> reference(const std::vector<uint8_t>& src, int srcW, int srcH, int dstW, int dstH) {
  std::vector<double> rows(size_t(srcH) * dstW);
  for (int x = 0; x < dstW; ++x) {
    const auto w = weights(srcW, dstW, x);
    for (int y = 0; y < srcH; ++y) {
      double v = 0;
      for (const auto& [j, c] : w) v += c * src[size_t(y) * srcW + j];
      // The horizontal pass keeps the sample x 128 in 15 bits, as swscale does: overshoot above
      // 255.99 (ringing at hard edges) is cut there.
      rows[size_t(y) * dstW + x] = std::min(v, 32767.0 / 128);
    }
  }
  std::vector<double> out(size_t(dstH) * dstW);
  for (int y = 0; y < dstH; ++y) {
    const auto w = weights(srcH, dstH, y);
    for (int x = 0; x < dstW; ++x) {
      double v = 0;
      for (const auto& [j, c] : w) v += c * rows[size_t(j) * dstW + x];
      out[size_t(y) * dstW + x] = std::clamp(v, 0.0, 255.0);
    }
  }
  return out;
}

// Gradients, hard-edged blocks (ringing), noise, and the extremes at the borders.
std::vector<uint8_t> picture(int w, int h, uint32_t seed) {
  std::vector<uint8_t> p(size_t(w) * h + 3);  // + the 3 bytes the contract lets it read past the last row
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      seed = seed * 1664525u + 1013904223u;
      int v = x * 255 / w / 2 + y * 255 / h / 2 + int(seed >> 28);
      if (((x / 7) + (y / 5)) % 3 == 0) v = ((x ^ y) & 2) ? 255 : 0;
      if (x == 0 || y == h - 1) v = 255;
      if (x == w - 1 || y == 0) v = 0;
      p[size_t(y) * w + x] = uint8_t(std::clamp(v, 0, 255));
    }
  }
  return p;
}

std::vector<uint8_t> run(const abrcast::LanczosPlaneScaler& scaler, const std::vector<uint8_t>& src, int srcW, int dstW,
                         int dstH, int bands) {
  const int pitch = (dstW + 15) & ~15;
  std::vector<uint8_t> dst(size_t(pitch) * dstH);
  for (int band = 0; band < bands; ++band) {
    std::vector<int16_t> scratch(scaler.scratchSize());
    scaler.scale(src.data(), srcW, dst.data(), pitch, dstH * band / bands, dstH * (band + 1) / bands, scratch.data());
  }
  std::vector<uint8_t> packed(size_t(dstW) * dstH);
  for (int y = 0; y < dstH; ++y) std::copy_n(&dst[size_t(y) * pitch], dstW, &packed[size_t(y) * dstW]);
  return packed;
}

// The plane scaled by swscale as one gray picture with `flags` (e.g. "lanczos", "lanczos+accurate_rnd").
std::vector<uint8_t> swscalePlane(const std::vector<uint8_t>& src, int srcW, int srcH, int dstW, int dstH, const char* flags) {
  SwsContext* context = sws_alloc_context();
  av_opt_set_int(context, "srcw", srcW, 0);
  av_opt_set_int(context, "srch", srcH, 0);
  av_opt_set_int(context, "src_format", AV_PIX_FMT_GRAY8, 0);
  av_opt_set_int(context, "dstw", dstW, 0);
  av_opt_set_int(context, "dsth", dstH, 0);
  av_opt_set_int(context, "dst_format", AV_PIX_FMT_GRAY8, 0);
  std::vector<uint8_t> out(size_t(dstW) * dstH + 64);
  if (av_opt_set(context, "sws_flags", flags, 0) < 0 || sws_init_context(context, nullptr, nullptr) < 0) {
    sws_freeContext(context);
    return {};
  }
  // swscale's SIMD reads whole vectors: a padded copy of the source.
  std::vector<uint8_t> padded(src.size() + 64);
  std::copy(src.begin(), src.end(), padded.begin());
  const uint8_t* in[4] = {padded.data(), nullptr, nullptr, nullptr};
  const int inPitch[4] = {srcW, 0, 0, 0};
  uint8_t* to[4] = {out.data(), nullptr, nullptr, nullptr};
  const int toPitch[4] = {dstW, 0, 0, 0};
  sws_scale(context, in, inPitch, 0, srcH, to, toPitch);
  sws_freeContext(context);
  out.resize(size_t(dstW) * dstH);
  return out;
}

double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double squared = 0;
  for (size_t i = 0; i < a.size(); ++i) squared += double(a[i] - b[i]) * (a[i] - b[i]);
  return squared == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 * double(a.size()) / squared);
}

}  // namespace

int main() {
  const int sizes[][4] = {
      {1920, 1080, 1280, 720}, {960, 540, 640, 360}, {1280, 720, 640, 360}, {640, 360, 320, 180},
      {1278, 718, 852, 359},   {642, 362, 428, 181}, {24, 32, 16, 16},      {36, 48, 24, 32},
      {100, 66, 50, 44},
  };
  for (const auto& s : sizes) {
    const int srcW = s[0], srcH = s[1], dstW = s[2], dstH = s[3];
    if (!abrcast::LanczosPlaneScaler::handles(srcW, srcH, dstW, dstH)) {
      std::printf("{\"size\":\"%dx%d->%dx%d\",\"handled\":false}\n", srcW, srcH, dstW, dstH);
      continue;
    }
    const std::vector<uint8_t> src = picture(srcW, srcH, uint32_t(srcW * 31 + srcH));
    const abrcast::LanczosPlaneScaler simd(srcW, srcH, dstW, dstH, true);
    const abrcast::LanczosPlaneScaler portable(srcW, srcH, dstW, dstH, false);
    const std::vector<uint8_t> a = run(simd, src, srcW, dstW, dstH, 1);
    const std::vector<uint8_t> b = run(portable, src, srcW, dstW, dstH, 1);
    const std::vector<uint8_t> c = run(simd, src, srcW, dstW, dstH, 3);
    const std::vector<double> exact = reference(src, srcW, srcH, dstW, dstH);
    long portableDiffers = 0, bandsDiffer = 0, offByOne = 0;
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      portableDiffers += a[i] != b[i];
      bandsDiffer += a[i] != c[i];
      const double off = std::fabs(a[i] - exact[i]);
      worst = std::max(worst, off);
      offByOne += off > 0.5;
    }
    // swscale's own pictures: its accurate one, and its default, which abrcast used before.
    const std::vector<uint8_t> accurate = swscalePlane(src, srcW, srcH, dstW, dstH, "lanczos+accurate_rnd");
    const std::vector<uint8_t> fast = swscalePlane(src, srcW, srcH, dstW, dstH, "lanczos");
    std::printf("{\"size\":\"%dx%d->%dx%d\",\"handled\":true,\"simd\":%s,\"portableDiffers\":%ld,\"bandsDiffer\":%ld,"
                "\"worstOff\":%.3f,\"roundedOtherwise\":%ld,\"samples\":%zu,\"psnrToSwscaleAccurate\":%.2f,"
                "\"swscaleDefaultToAccurate\":%.2f}\n",
                srcW, srcH, dstW, dstH, abrcast::LanczosPlaneScaler::fast() ? "true" : "false", portableDiffers, bandsDiffer,
                worst, offByOne, a.size(), accurate.empty() ? 0.0 : psnr(a, accurate), accurate.empty() ? 0.0 : psnr(fast, accurate));
  }
  return 0;
}
