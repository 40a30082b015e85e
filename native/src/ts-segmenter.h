// One MPEG-TS muxer per rendition that writes into memory through a custom
// AVIOContext. The muxer runs for the whole encode, so timestamps and
// continuity counters keep running; cutSegment() hands over the bytes written
// since the previous cut.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ffmpeg.h"

namespace abrcast {

class TsSegmenter {
 public:
  TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder);
  ~TsSegmenter();
  TsSegmenter(const TsSegmenter&) = delete;
  TsSegmenter& operator=(const TsSegmenter&) = delete;

  // Takes the packet's payload; its timestamps are in `encoderTimeBase`.
  void write(AVPacket* packet, AVRational encoderTimeBase);

  // Flushes the muxer and returns everything written since the previous cut.
  // The next write starts a segment that carries PAT/PMT again.
  std::vector<uint8_t> cutSegment();

  // Writes the trailer and returns the last segment's bytes.
  std::vector<uint8_t> finish();

 private:
  static int onWrite(void* opaque, const uint8_t* data, int size);
#if LIBAVFORMAT_VERSION_MAJOR < 61
  static int onWriteNonConst(void* opaque, uint8_t* data, int size) { return onWrite(opaque, data, size); }
#endif

  std::string renditionName_;
  AVFormatContext* format_ = nullptr;  // owned; freed in the destructor with its AVIOContext
  AVStream* stream_ = nullptr;
  std::vector<uint8_t> pending_;
  bool trailerWritten_ = false;
};

}  // namespace abrcast
