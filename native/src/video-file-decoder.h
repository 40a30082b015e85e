// Demuxes and decodes the best video stream of a file or URL. Opening decodes
// the first frame, so a missing, unreadable, audio-only or undecodable source
// fails at construction with the source named, and the frames' real format
// (pixel format, size, colour) is known before the filter graph is built.
#pragma once

#include <atomic>
#include <string>

#include "ffmpeg.h"

namespace abrcast {

// What the filter graph's source needs to know about the decoded frames.
struct VideoFrameFormat {
  int width = 0;
  int height = 0;
  AVPixelFormat pixelFormat = AV_PIX_FMT_NONE;
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
  AVColorRange colorRange = AVCOL_RANGE_UNSPECIFIED;
};

class VideoFileDecoder {
 public:
  // `interrupted` makes blocking reads (network sources) give up when set.
  VideoFileDecoder(const std::string& source, const std::atomic<bool>* interrupted);
  VideoFileDecoder(const VideoFileDecoder&) = delete;
  VideoFileDecoder& operator=(const VideoFileDecoder&) = delete;

  const std::string& source() const { return source_; }
  const VideoFrameFormat& frameFormat() const { return frameFormat_; }
  // Time base of the frames' best_effort_timestamp.
  AVRational timeBase() const { return timeBase_; }

  // Decodes the next frame into `frame` (unreferenced first); false at the end.
  bool next(AVFrame* frame);

 private:
  bool decodeNext(AVFrame* frame);
  static int onInterrupt(void* opaque);

  std::string source_;
  const std::atomic<bool>* interrupted_;
  InputFormatPtr format_;
  CodecContextPtr decoder_;
  PacketPtr packet_;
  FramePtr first_;  // decoded while opening, handed out by the first next()
  VideoFrameFormat frameFormat_;
  AVRational timeBase_{1, 1};
  int streamIndex_ = -1;
  bool inputEnded_ = false;
};

}  // namespace abrcast
