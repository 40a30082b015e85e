// MPEG-TS segments: every segment starts with PAT/PMT and an IDR, so it decodes on its own; a
// part is the bytes muxed since the previous cut, so a segment's parts concatenate to it. Every
// part also starts with PAT/PMT, and its first video access unit carries the SPS and PPS: a
// player that transmuxes chunk by chunk (Shaka Player) finds the programs and the parameter sets
// in each part it appends, not only in a segment's first (its later frames still need the
// part's predecessors to decode, as in any stream of parts).
#pragma once

#include <vector>

#include "segmenter.h"

namespace abrcast {

class TsSegmenter : public Segmenter {
 public:
  // `timedMetadata`: the PMT declares a timed ID3 stream (stream type 0x15, PES stream_id 0xbd, the
  // metadata descriptor with format 'ID3 ', as FFmpeg's HLS muxer and Apple's timed metadata
  // spec write it) that writeMetadata() fills.
  TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
              size_t expectedSegmentBytes = 0, bool timedMetadata = false);

  std::vector<uint8_t> cut(bool segmentEnds) override;
  std::vector<uint8_t> finish() override;
  void writeMetadata(const TimedMetadata& metadata) override;
  double ptsOffsetSeconds() const override { return kPtsOffsetSeconds; }
  const char* segmentExtension() const override { return "ts"; }

  // The muxer's max_delay, as the ffmpeg CLI sets it (-muxdelay 0.7): audio frames are grouped
  // into PES packets of up to this length instead of one PES (and its TS padding) per AAC frame.
  // mpegts also adds it to every timestamp, so a frame shown at t is at PTS t + this in the bytes.
  static constexpr double kMuxDelaySeconds = 0.7;
  // Where a frame shown at t (seconds from the start of the run) is in the bytes: PTS t + this.
  // mpegts adds twice max_delay; negative timestamps are not shifted away (avoid_negative_ts is
  // off, as the delay already keeps B-frame DTS and AAC priming above zero), so the offset is the
  // same whatever the encoder, its B-frames or the audio: ffprobe's pts_time = startPts + this.
  static constexpr double kPtsOffsetSeconds = 2 * kMuxDelaySeconds;

 protected:
  void writeVideo(AVPacket* packet, AVRational encoderTimeBase) override;

 private:
  // H.264 SPS and PPS NAL units (Annex B, each after a 4-byte start code) of the latest
  // keyframe that carried them: the encoder repeats them in-band at every IDR.
  std::vector<uint8_t> parameterSets_;
  // The next video packet is the first of a part.
  bool partStarts_ = false;
  void noteKeyframes();

  AVStream* id3Stream_ = nullptr;
  bool atSegmentStart_ = true;  // the bytes pending start a segment
  int64_t lastId3Pts_ = AV_NOPTS_VALUE;
};

}  // namespace abrcast
