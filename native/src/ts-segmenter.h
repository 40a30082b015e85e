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
  // `audioEncoder` (may be null) adds an audio stream next to the video.
  TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder);
  ~TsSegmenter();
  TsSegmenter(const TsSegmenter&) = delete;
  TsSegmenter& operator=(const TsSegmenter&) = delete;

  // Muxes a video packet whose timestamps are in `encoderTimeBase`. The caller
  // keeps the packet (its timestamps are rewritten) and writes in dts order.
  void write(AVPacket* packet, AVRational encoderTimeBase) { writeTo(stream_, packet, encoderTimeBase); }
  void writeAudio(AVPacket* packet, AVRational encoderTimeBase) { writeTo(audioStream_, packet, encoderTimeBase); }

  // Flushes the muxer and returns everything written since the previous cut.
  // The next write starts a segment that carries PAT/PMT again.
  std::vector<uint8_t> cutSegment();

  // Writes the trailer and returns the last segment's bytes.
  std::vector<uint8_t> finish();

 private:
  void writeTo(AVStream* stream, AVPacket* packet, AVRational encoderTimeBase);
  static int onWrite(void* opaque, const uint8_t* data, int size);
#if LIBAVFORMAT_VERSION_MAJOR < 61
  static int onWriteNonConst(void* opaque, uint8_t* data, int size) { return onWrite(opaque, data, size); }
#endif

  std::string renditionName_;
  AVFormatContext* format_ = nullptr;  // owned; freed in the destructor with its AVIOContext
  AVStream* stream_ = nullptr;
  AVStream* audioStream_ = nullptr;
  std::vector<uint8_t> pending_;
  bool trailerWritten_ = false;
};

}  // namespace abrcast
