// fMP4/CMAF segments: the mp4 muxer writes ftyp + moov (one sample description per track, no
// samples) at the header, kept as the init segment, then one moof/mdat fragment per cut
// (frag_custom: only where we flush). Audio shares the video's fragments, as in TS.
#pragma once

#include "segmenter.h"

namespace abrcast {

class Fmp4Segmenter : public Segmenter {
 public:
  // The encoders must have been opened with AV_CODEC_FLAG_GLOBAL_HEADER (avcC and the AAC
  // config live in the moov, not in band).
  Fmp4Segmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                size_t expectedSegmentBytes = 0);

  std::vector<uint8_t> cut(bool segmentEnds) override;
  std::vector<uint8_t> finish() override;
  // An emsg box (version 1, scheme https://aomedia.org/emsg/ID3) put ahead of the moof of the
  // fragment the next cut closes: FFmpeg's mp4 muxer writes no event messages itself.
  void writeMetadata(const TimedMetadata& metadata) override;
  double ptsOffsetSeconds() const override { return kPtsOffsetSeconds; }
  const char* segmentExtension() const override { return "m4s"; }

  // Timestamps are shifted by this much before muxing, as TS's muxer delay does there: B-frame
  // DTS and AAC priming stay non-negative, so nothing is shifted by the muxer and a frame shown at
  // t is at t + this in the fragments (tfdt + composition offset), whatever the encoder.
  static constexpr double kPtsOffsetSeconds = 1.4;

 private:
  // The fragment's bytes with the queued emsg boxes in front; notes where its keyframes are.
  std::vector<uint8_t> takeFragment();

  std::vector<uint8_t> events_;  // emsg boxes for the running fragment
};

}  // namespace abrcast
