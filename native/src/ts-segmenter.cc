#include "ts-segmenter.h"

#include <algorithm>
#include <cmath>

namespace abrcast {

namespace {
// MPEG-TS timestamps are 90 kHz.
constexpr AVRational kId3TimeBase{1, 90000};
}  // namespace

TsSegmenter::TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                         size_t expectedSegmentBytes, bool timedMetadata)
    : Segmenter("mpegts", "MPEG-TS", renditionName, encoder, audioEncoder, expectedSegmentBytes) {
  // After video and audio: their PIDs (0x100, 0x101) stay what they are without it.
  if (timedMetadata) id3Stream_ = addStream(AVMEDIA_TYPE_DATA, AV_CODEC_ID_TIMED_ID3, kId3TimeBase);
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
  std::vector<uint8_t> bytes = takePending();
  noteKeyframes();
  atSegmentStart_ = segmentEnds;
  return bytes;
}

std::vector<uint8_t> TsSegmenter::finish() {
  writeTrailer();
  std::vector<uint8_t> bytes = takePending();
  noteKeyframes();
  return bytes;
}

// A video PES is written whole within its av_write_frame(): the bytes written during that call
// are the I-frame's. The IDR that starts a segment takes everything before it in the segment too:
// the PAT/PMT that open it (written ahead of whatever came first, a timed ID3 PES maybe), without
// which its range would not decode alone.
void TsSegmenter::noteKeyframes() {
  keyframes_.clear();
  for (const WrittenKeyframe& keyframe : takenKeyframes_) {
    const size_t start = atSegmentStart_ && keyframe.videoPacket == 0 ? 0 : keyframe.start;
    keyframes_.push_back(KeyframeSpan{start, keyframe.end - start, keyframe.pts});
  }
}

void TsSegmenter::writeMetadata(const TimedMetadata& metadata) {
  if (!id3Stream_) throw FFmpegError("Timed metadata" + where() + " needs the encoder opened with timedMetadata");
  // The data stream's timestamps may not go backwards: an item written late keeps the last time.
  int64_t pts = std::llround(metadata.time * kId3TimeBase.den);
  if (lastId3Pts_ != AV_NOPTS_VALUE) pts = std::max(pts, lastId3Pts_);
  lastId3Pts_ = pts;
  PacketPtr packet = allocPacket();
  check(av_new_packet(packet.get(), int(metadata.id3.size())), "Cannot allocate a timed ID3 packet" + where());
  std::copy(metadata.id3.begin(), metadata.id3.end(), packet->data);
  packet->pts = pts;
  packet->dts = pts;
  if (metadata.duration > 0) packet->duration = std::llround(metadata.duration * kId3TimeBase.den);
  packet->flags |= AV_PKT_FLAG_KEY;
  writeTo(id3Stream_, packet.get(), kId3TimeBase);
}

}  // namespace abrcast
