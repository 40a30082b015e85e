#include "fmp4-segmenter.h"

#include <algorithm>
#include <cmath>

#include "fmp4-boxes.h"

namespace abrcast {

namespace {
// emsg times and durations: the 90 kHz clock MPEG-TS uses too.
constexpr uint32_t kEventTimescale = 90000;
// The video is the first track the muxer writes (track_ID 1).
constexpr uint32_t kVideoTrackId = 1;
}  // namespace

Fmp4Segmenter::Fmp4Segmenter(const std::string& renditionName, const AVCodecContext* encoder,
                             const AVCodecContext* audioEncoder, size_t expectedSegmentBytes)
    : Segmenter("mp4", "fMP4", renditionName, encoder, audioEncoder, expectedSegmentBytes) {
  if (encoder->extradata_size == 0) {
    throw FFmpegError("fMP4" + where() + " needs the encoder's global header (SPS/PPS), and it has none");
  }
  // empty_moov: the moov (no samples) is written with the header, the init segment.
  // frag_custom: a fragment ends only where cut() flushes. default_base_moof: offsets from each
  // moof, as CMAF and hls.js expect. skip_trailer: no mfra after the last fragment (it belongs to
  // no segment). frag_discont with no edit list: the first fragment's tfdt is its packet's own dts,
  // not rebased to 0 per track, so audio and video keep their timing and our offset.
  // Not movflags=cmaf: it forces negative composition offsets (trun v1), whose presentation time
  // readers disagree on (libavformat shifts it by the largest negative offset it has seen, per
  // file); with positive offsets every reader puts a frame shown at t at t + kPtsOffsetSeconds.
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+frag_custom+empty_moov+default_base_moof+skip_trailer+frag_discont", 0);
  av_dict_set(&options, "use_editlist", "0", 0);
  // Our own offset keeps timestamps non-negative; the muxer must not shift them again.
  format()->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
  format()->output_ts_offset = int64_t(kPtsOffsetSeconds * AV_TIME_BASE);
  writeHeader(DictionaryPtr(options));
  flushMuxer();
  init_ = takePending();
  if (init_.empty()) throw FFmpegError("The fMP4 muxer wrote no init segment" + where());
}

std::vector<uint8_t> Fmp4Segmenter::cut(bool) {
  // With frag_custom a null packet closes the running fragment: one moof + mdat.
  flushMuxer();
  return takeFragment();
}

std::vector<uint8_t> Fmp4Segmenter::takeFragment() {
  std::vector<uint8_t> bytes = takePending();
  keyframes_.clear();
  if (bytes.empty()) return bytes;  // nothing muxed since the last cut: the events wait for the next fragment
  if (!events_.empty()) {
    bytes.insert(bytes.begin(), events_.begin(), events_.end());
    events_.clear();
  }
  // An I-frame's range: the moof (the sample table a reader needs) up to the end of its sample.
  for (const WrittenKeyframe& keyframe : takenKeyframes_) {
    const FragmentSample sample = locateFragmentSample(bytes.data(), bytes.size(), kVideoTrackId, keyframe.videoPacket);
    keyframes_.push_back(KeyframeSpan{sample.moofOffset, sample.offset + sample.size - sample.moofOffset, keyframe.pts});
  }
  return bytes;
}

void Fmp4Segmenter::writeMetadata(const TimedMetadata& metadata) {
  EmsgBox box;
  box.schemeIdUri = kId3EmsgScheme;
  box.timescale = kEventTimescale;
  // On the fragments' timeline, where a frame shown at t is at t + kPtsOffsetSeconds.
  box.presentationTime = uint64_t(std::llround(std::max(0.0, metadata.time + kPtsOffsetSeconds) * kEventTimescale));
  if (metadata.duration >= 0) {
    box.eventDuration = uint32_t(std::min<double>(std::llround(metadata.duration * kEventTimescale), 0xFFFFFFFE));
  }
  box.id = metadata.id;
  box.messageData = metadata.id3;
  const std::vector<uint8_t> bytes = writeEmsgBox(box);
  events_.insert(events_.end(), bytes.begin(), bytes.end());
}

std::vector<uint8_t> Fmp4Segmenter::finish() {
  flushMuxer();
  std::vector<uint8_t> last = takeFragment();
  writeTrailer();
  takePending();  // whatever the trailer writes is no media
  return last;
}

}  // namespace abrcast
