#include "ts-segmenter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace abrcast {

namespace {

struct AnnexB {
  std::vector<uint8_t> bytes;  // the SPS and PPS NAL units found, each after 00 00 00 01
  bool hasSps = false;
};

// The SPS (7) and PPS (8) NAL units of an H.264 access unit (Annex B) that come before its first
// slice, where H.264 7.4.1.2.3 puts them.
AnnexB h264ParameterSets(const uint8_t* data, size_t size) {
  AnnexB found;
  size_t i = 0;
  const auto nextStart = [&](size_t from) {
    for (size_t k = from; k + 2 < size; ++k) {
      if (data[k] == 0 && data[k + 1] == 0 && data[k + 2] == 1) return k;
    }
    return size;
  };
  i = nextStart(0);
  while (i < size) {
    const size_t begin = i + 3;  // the NAL header
    if (begin >= size) break;
    size_t end = nextStart(begin);
    const size_t next = end;
    // A 4-byte start code's leading zero (and trailing_zero_8bits) belong to no NAL unit.
    while (end > begin && data[end - 1] == 0) --end;
    const int type = data[begin] & 0x1f;
    if (type >= 1 && type <= 5) break;  // a slice: the parameter sets come before it
    if (type == 7 || type == 8) {
      static const uint8_t kStartCode[] = {0, 0, 0, 1};
      found.bytes.insert(found.bytes.end(), kStartCode, kStartCode + 4);
      found.bytes.insert(found.bytes.end(), data + begin, data + end);
      if (type == 7) found.hasSps = true;
    }
    i = next;
  }
  return found;
}

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

void TsSegmenter::writeVideo(AVPacket* packet, AVRational encoderTimeBase) {
  if (videoStream()->codecpar->codec_id != AV_CODEC_ID_H264) return writeTo(videoStream(), packet, encoderTimeBase);
  const AnnexB units = h264ParameterSets(packet->data, size_t(packet->size));
  if (!units.bytes.empty()) parameterSets_ = units.bytes;
  const bool first = partStarts_;
  partStarts_ = false;
  if (!first || units.hasSps || parameterSets_.empty()) return writeTo(videoStream(), packet, encoderTimeBase);
  // The part's first access unit, without its own SPS/PPS: the same packet with them in front
  // (the muxer then puts its access unit delimiter before them, as H.264 7.4.1.2.3 orders them).
  PacketPtr copy = allocPacket();
  const size_t size = parameterSets_.size() + size_t(packet->size);
  check(av_new_packet(copy.get(), int(size)), "Cannot allocate a packet with SPS/PPS" + where());
  std::memcpy(copy->data, parameterSets_.data(), parameterSets_.size());
  std::memcpy(copy->data + parameterSets_.size(), packet->data, size_t(packet->size));
  check(av_packet_copy_props(copy.get(), packet), "Cannot copy packet properties" + where());
  writeTo(videoStream(), copy.get(), encoderTimeBase);
}

std::vector<uint8_t> TsSegmenter::cut(bool segmentEnds) {
  // mpegts writes out its buffered PES payloads (audio grouped up to max_delay) on a null packet,
  // so a part holds every packet muxed before its cut.
  flushMuxer();
  // PAT/PMT again before whatever is muxed next (audio, video or timed ID3), so every part and
  // every segment starts with them (Shaka appends each part alone); mpegts re-sends them before
  // a video keyframe anyway. One-shot: the muxer clears the flag once it has acted on it.
  av_opt_set(format()->priv_data, "mpegts_flags", "+resend_headers", 0);
  partStarts_ = true;
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
