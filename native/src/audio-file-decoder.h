// Decodes the best audio stream of a file or URL with libavformat/libavcodec.
// Opening reads up to the first decoded frame, so a missing, unreadable or
// video-only source fails at construction with the source named.
#pragma once

#include <atomic>
#include <string>

#include "ffmpeg.h"

namespace abrcast {

class AudioFileDecoder {
 public:
  // `interrupted` makes blocking reads (network sources) give up when set.
  AudioFileDecoder(const std::string& source, const std::atomic<bool>* interrupted);
  AudioFileDecoder(const AudioFileDecoder&) = delete;
  AudioFileDecoder& operator=(const AudioFileDecoder&) = delete;

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
  int streamIndex_ = -1;
  bool inputEnded_ = false;
};

}  // namespace abrcast
