// Host check of the CUDA kernel's arithmetic (native/cuda/rgb-to-yuv420.h): converts test
// pictures with convertBlock and with swscale set up as the CPU ladder's `scale` filter is,
// and prints one JSON line per case. test/encoder/cuda-kernel-math.test.ts judges the numbers.
//
// The swscale set-up is what kToYuv (native/src/ladder-filter-graph.cc) does, flags=area:
// vf_scale passes the frame's range (full, for RGB) as the source range and out_range=tv /
// out_color_matrix=bt709 as the destination. For RGB input swscale uses neither the source
// matrix nor the source range, so in_color_matrix does not matter.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" {
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include "rgb-to-yuv420.h"

namespace {

using abrcast::rgb_to_yuv420::PackedRgb;
using abrcast::rgb_to_yuv420::Yuv420Planes;

struct RgbLayout {
  const char* name;
  AVPixelFormat swsFormat;
  int bytesPerPixel;
  int red, green, blue;  // byte index of each channel
};

const RgbLayout kLayouts[] = {
    {"rgb24", AV_PIX_FMT_RGB24, 3, 0, 1, 2},
    {"rgba", AV_PIX_FMT_RGBA, 4, 0, 1, 2},
    {"bgra", AV_PIX_FMT_BGRA, 4, 2, 1, 0},
};

long long alignUp(long long value, long long alignment) { return (value + alignment - 1) / alignment * alignment; }

// Deterministic so a failure can be reproduced byte for byte.
struct Random {
  uint32_t state;
  uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

struct Rgb {
  int r, g, b;
};

int clamp255(int value) { return value < 0 ? 0 : value > 255 ? 255 : value; }

enum class Picture { kSmooth, kEdges, kUniform };

// Gradients with a little noise; kEdges adds a band of saturated blocks, whose edges fall both on
// and inside 2x2 blocks (odd sizes), and 1-px lines. The two are judged apart: at edges swscale's
// chroma differs by design (see the node test).
Rgb patternPixel(Picture picture, int x, int y, int width, int height, Random& random) {
  static const Rgb kSaturated[] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255}, {0, 255, 255},
                                   {255, 0, 255}, {255, 255, 0}, {0, 0, 0},   {255, 255, 255}};
  Rgb pixel{x * 255 / (width - 1), y * 255 / (height - 1), (x + y) * 255 / (width + height - 2)};
  const int blocksTop = height / 3, blocksBottom = blocksTop + height / 4;
  if (picture == Picture::kEdges) {
    if (y >= blocksTop && y < blocksBottom && x >= width / 8) {
      const int cell = (x - width / 8 + (y & 1)) / 13 + (y - blocksTop) / 11;
      pixel = kSaturated[cell % 8];
    }
    if (x % 97 == 5 || y % 89 == 7) pixel = Rgb{255 - pixel.r, 255 - pixel.g, 255 - pixel.b};
  }
  const int noise = int(random.next() % 9) - 4;
  return Rgb{clamp255(pixel.r + noise), clamp255(pixel.g - noise), clamp255(pixel.b + noise)};
}

struct RgbPicture {
  int width, height;
  long long pitch;
  std::vector<uint8_t> bytes;
};

// Rows are padded past width*bpp with noise, and alpha is noise too: neither may leak in.
RgbPicture makeRgb(const RgbLayout& layout, int width, int height, Picture kind, Rgb colour) {
  RgbPicture picture{width, height, alignUp((long long)width * layout.bytesPerPixel, 64) + 40, {}};
  picture.bytes.resize(size_t(picture.pitch * height));
  Random padding{0x9e3779b9u};
  for (uint8_t& byte : picture.bytes) byte = uint8_t(padding.next());
  Random noise{12345u};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const Rgb pixel = kind == Picture::kUniform ? colour : patternPixel(kind, x, y, width, height, noise);
      uint8_t* out = &picture.bytes[size_t(y * picture.pitch + (long long)x * layout.bytesPerPixel)];
      out[layout.red] = uint8_t(pixel.r);
      out[layout.green] = uint8_t(pixel.g);
      out[layout.blue] = uint8_t(pixel.b);
    }
  }
  return picture;
}

constexpr uint8_t kUnwritten = 0xA7;

struct Yuv420 {
  int width, height;
  long long pitch[3];
  std::vector<uint8_t> plane[3];

  Yuv420(int w, int h) : width(w), height(h) {
    const int planeWidth[3] = {w, w / 2, w / 2}, planeHeight[3] = {h, h / 2, h / 2};
    for (int i = 0; i < 3; ++i) {
      pitch[i] = alignUp(planeWidth[i], 64) + 64;  // never equal to the width
      plane[i].assign(size_t(pitch[i] * planeHeight[i]), kUnwritten);
    }
  }
  int planeWidth(int i) const { return i == 0 ? width : width / 2; }
  int planeHeight(int i) const { return i == 0 ? height : height / 2; }
  uint8_t at(int i, int x, int y) const { return plane[i][size_t(y * pitch[i] + x)]; }
};

Yuv420 convertWithKernel(const RgbLayout& layout, const RgbPicture& rgb) {
  Yuv420 out(rgb.width, rgb.height);
  const PackedRgb src{rgb.bytes.data(), rgb.pitch, layout.bytesPerPixel, layout.red, layout.green, layout.blue};
  const Yuv420Planes dst{out.plane[0].data(), out.pitch[0], out.plane[1].data(), out.pitch[1],
                         out.plane[2].data(), out.pitch[2]};
  for (int cy = 0; cy < rgb.height / 2; ++cy)
    for (int cx = 0; cx < rgb.width / 2; ++cx) abrcast::rgb_to_yuv420::convertBlock(src, dst, cx, cy);
  return out;
}

Yuv420 convertWithSwscale(const RgbLayout& layout, const RgbPicture& rgb) {
  Yuv420 out(rgb.width, rgb.height);
  SwsContext* context = sws_getContext(rgb.width, rgb.height, layout.swsFormat, rgb.width, rgb.height,
                                       AV_PIX_FMT_YUV420P, SWS_AREA, nullptr, nullptr, nullptr);
  if (!context) {
    std::fprintf(stderr, "sws_getContext failed for %s %dx%d\n", layout.name, rgb.width, rgb.height);
    std::exit(2);
  }
  const int* bt709 = sws_getCoefficients(SWS_CS_ITU709);
  if (sws_setColorspaceDetails(context, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16) < 0) {
    std::fprintf(stderr, "sws_setColorspaceDetails failed for %s\n", layout.name);
    std::exit(2);
  }
  const uint8_t* srcSlice[4] = {rgb.bytes.data(), nullptr, nullptr, nullptr};
  const int srcStride[4] = {int(rgb.pitch), 0, 0, 0};
  uint8_t* dstSlice[4] = {out.plane[0].data(), out.plane[1].data(), out.plane[2].data(), nullptr};
  const int dstStride[4] = {int(out.pitch[0]), int(out.pitch[1]), int(out.pitch[2]), 0};
  if (sws_scale(context, srcSlice, srcStride, 0, rgb.height, dstSlice, dstStride) != rgb.height) {
    std::fprintf(stderr, "sws_scale failed for %s\n", layout.name);
    std::exit(2);
  }
  sws_freeContext(context);
  return out;
}

struct PlaneDiff {
  double psnr;
  int maxDiff;
  double meanDiff;  // signed, kernel minus swscale: shows a bias PSNR would hide
};

PlaneDiff compare(const Yuv420& kernel, const Yuv420& reference, int i) {
  double squared = 0, sum = 0;
  int maxDiff = 0;
  const int w = kernel.planeWidth(i), h = kernel.planeHeight(i);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int d = int(kernel.at(i, x, y)) - int(reference.at(i, x, y));
      squared += double(d) * d;
      sum += d;
      if (std::abs(d) > maxDiff) maxDiff = std::abs(d);
    }
  }
  const double count = double(w) * h;
  // Identical planes have infinite PSNR, which JSON cannot carry: report 100 dB.
  const double psnr = squared == 0 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / (squared / count));
  return {psnr, maxDiff, sum / count};
}

// convertBlock must leave each plane's row padding alone.
bool paddingUntouched(const Yuv420& planes) {
  for (int i = 0; i < 3; ++i)
    for (int y = 0; y < planes.planeHeight(i); ++y)
      for (long long x = planes.planeWidth(i); x < planes.pitch[i]; ++x)
        if (planes.plane[i][size_t(y * planes.pitch[i] + x)] != kUnwritten) return false;
  return true;
}

void runCase(const RgbLayout& layout, int width, int height, Picture kind, const char* name, Rgb colour = {}) {
  const RgbPicture rgb = makeRgb(layout, width, height, kind, colour);
  const Yuv420 kernel = convertWithKernel(layout, rgb);
  const Yuv420 reference = convertWithSwscale(layout, rgb);
  const PlaneDiff y = compare(kernel, reference, 0), u = compare(kernel, reference, 1),
                  v = compare(kernel, reference, 2);
  std::printf(
      "{\"format\":\"%s\",\"width\":%d,\"height\":%d,\"picture\":\"%s\",\"psnrY\":%.3f,\"psnrU\":%.3f,"
      "\"psnrV\":%.3f,\"maxDiffY\":%d,\"maxDiffU\":%d,\"maxDiffV\":%d,\"meanDiffY\":%.5f,\"meanDiffU\":%.5f,"
      "\"meanDiffV\":%.5f,\"kernelFirst\":[%d,%d,%d],\"swscaleFirst\":[%d,%d,%d],\"paddingUntouched\":%s}\n",
      layout.name, width, height, name, y.psnr, u.psnr, v.psnr, y.maxDiff, u.maxDiff, v.maxDiff, y.meanDiff,
      u.meanDiff, v.meanDiff, kernel.at(0, 0, 0), kernel.at(1, 0, 0), kernel.at(2, 0, 0), reference.at(0, 0, 0),
      reference.at(1, 0, 0), reference.at(2, 0, 0), paddingUntouched(kernel) ? "true" : "false");
}

}  // namespace

int main() {
  const int sizes[][2] = {{1920, 1080}, {642, 362}};
  for (const RgbLayout& layout : kLayouts) {
    for (const auto& size : sizes) {
      runCase(layout, size[0], size[1], Picture::kSmooth, "smooth");
      runCase(layout, size[0], size[1], Picture::kEdges, "edges");
    }
    runCase(layout, 64, 36, Picture::kUniform, "black", {0, 0, 0});
    runCase(layout, 64, 36, Picture::kUniform, "white", {255, 255, 255});
    runCase(layout, 64, 36, Picture::kUniform, "grey", {128, 128, 128});
  }
  return 0;
}
