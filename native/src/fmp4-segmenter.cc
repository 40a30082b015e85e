#include "fmp4-segmenter.h"

namespace abrcast {

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
  return takePending();
}

std::vector<uint8_t> Fmp4Segmenter::finish() {
  flushMuxer();
  std::vector<uint8_t> last = takePending();
  writeTrailer();
  takePending();  // whatever the trailer writes is no media
  return last;
}

}  // namespace abrcast
