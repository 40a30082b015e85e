// A JPEG of one picture, for the seek-bar thumbnails: the frame an encoder already holds (the
// smallest rendition's scaled picture at each segment's first frame) is scaled once more to the
// thumbnail size, converted from BT.709 limited range to JFIF's full-range BT.601, and encoded
// with FFmpeg's mjpeg encoder. No second decode, and nothing on the encoders' critical path but
// one small scale and one JPEG per segment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ffmpeg.h"
#include "rendition-scaler.h"

namespace abrcast {

class ThumbnailEncoder {
 public:
  // Null, with the reason in `whyNot`, when this FFmpeg has no mjpeg encoder: the feature is then off.
  static std::unique_ptr<ThumbnailEncoder> open(int width, int height, AVRational timeBase, std::string& whyNot);

  int width() const { return width_; }
  int height() const { return height_; }
  // The JPEG of `frame` (any software format and size, or a hardware frame, downloaded first).
  std::vector<uint8_t> encode(const AVFrame* frame);

 private:
  ThumbnailEncoder(int width, int height) : width_(width), height_(height) {}
  void scale(const AVFrame* frame);

  int width_;
  int height_;
  CodecContextPtr codec_;
  PacketPtr packet_ = allocPacket();
  FramePtr rgb_;                        // the thumbnail in RGB: swscale changes YUV matrices only through RGB
  FramePtr picture_;                    // the thumbnail, full-range BT.601 YUV 4:2:0 (JFIF)
  FramePtr downloaded_ = allocFrame();  // a hardware frame's copy in system memory
  SwsContextPtr toRgb_;                 // from the encoder's picture (made for its size and format)
  SwsContextPtr toYuv_;
  int scalerWidth_ = 0;
  int scalerHeight_ = 0;
  int scalerFormat_ = -1;
};

}  // namespace abrcast
