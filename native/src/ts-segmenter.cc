#include "ts-segmenter.h"

namespace abrcast {

TsSegmenter::TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                         size_t expectedSegmentBytes)
    : Segmenter("mpegts", "MPEG-TS", renditionName, encoder, audioEncoder, expectedSegmentBytes) {
  format()->max_delay = int(kMuxDelaySeconds * AV_TIME_BASE);
  format()->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
  writeHeader(nullptr);
}

std::vector<uint8_t> TsSegmenter::cut(bool segmentEnds) {
  // mpegts writes out its buffered PES payloads (audio grouped up to max_delay) on a null packet,
  // so a part holds every packet muxed before its cut.
  flushMuxer();
  // mpegts also re-sends PAT/PMT before a video keyframe; asking for it makes every segment
  // decodable on its own whatever the muxer's version does. One-shot: parts inside a segment
  // need no tables of their own (they are played after the segment's first part).
  if (segmentEnds) av_opt_set(format()->priv_data, "mpegts_flags", "+resend_headers", 0);
  return takePending();
}

std::vector<uint8_t> TsSegmenter::finish() {
  writeTrailer();
  return takePending();
}

}  // namespace abrcast
