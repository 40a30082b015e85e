// Plain configuration copied out of JS values on the JS thread. Nothing here
// touches Napi, so the worker threads can read it freely.
#pragma once

extern "C" {
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>
}

#include <string>
#include <vector>

namespace abrcast {

enum class EncoderKind { X264, Nvenc };

struct RenditionConfig {
  std::string name;
  int width = 0;
  int height = 0;
  int bitrateKbps = 0;
};

struct EncoderConfig {
  int width = 0;
  int height = 0;
  AVRational frameRate{30, 1};
  AVPixelFormat inputFormat = AV_PIX_FMT_RGB24;
  int framesPerSegment = 60;
  EncoderKind encoder = EncoderKind::X264;
  std::string x264Preset = "veryfast";
  std::string nvencPreset = "p4";
  std::string nvencTune = "hq";
  std::string scaleFlags = "bicubic";
  int maxFramesInFlight = 4;
  std::string outputDir;  // empty: segments stay in memory only
  std::vector<RenditionConfig> renditions;

  // Encoder time base: one tick per frame.
  AVRational timeBase() const { return av_inv_q(frameRate); }
};

}  // namespace abrcast
