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
  // `audioEncoder` (may be null) adds an audio stream next to the video. `expectedSegmentBytes`
  // sizes each segment's buffer up front (bitrate x duration), so it is not regrown packet by packet.
  // The PTS in the bytes are the encoder's plus kPtsOffsetSeconds.
  TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
              size_t expectedSegmentBytes = 0);
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

  // The muxer's max_delay, as the ffmpeg CLI sets it (-muxdelay 0.7): audio frames are grouped
  // into PES packets of up to this length instead of one PES (and its TS padding) per AAC frame.
  // mpegts also adds it to every timestamp, so a frame shown at t is at PTS t + this in the bytes.
  static constexpr double kMuxDelaySeconds = 0.7;
  // Where a frame shown at t (seconds from the start of the run) is in the bytes: PTS t + this.
  // mpegts adds twice max_delay; negative timestamps are not shifted away (avoid_negative_ts is
  // off, as the delay already keeps B-frame DTS and AAC priming above zero), so the offset is the
  // same whatever the encoder, its B-frames or the audio: ffprobe's pts_time = startPts + this.
  static constexpr double kPtsOffsetSeconds = 2 * kMuxDelaySeconds;

 private:
  void writeTo(AVStream* stream, AVPacket* packet, AVRational encoderTimeBase);
  static int onWrite(void* opaque, const uint8_t* data, int size);
#if LIBAVFORMAT_VERSION_MAJOR < 61
  static int onWriteNonConst(void* opaque, uint8_t* data, int size) { return onWrite(opaque, data, size); }
#endif

  std::string renditionName_;
  size_t expectedSegmentBytes_;
  IoContextPtr io_;  // declared first: the format context still points at it until it is freed
  OutputFormatPtr format_;
  AVStream* stream_ = nullptr;
  AVStream* audioStream_ = nullptr;
  std::vector<uint8_t> pending_;
  bool trailerWritten_ = false;
};

}  // namespace abrcast
