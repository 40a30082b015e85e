// The segmenters' error paths free what they allocated (issue 14, finding 9):
// a muxer whose header cannot be written (an audio stream without a sample
// rate) throws, and LeakSanitizer, run at exit, finds nothing left behind.
// Both containers (issue 16): MPEG-TS and fMP4.
// Built and run by test/native/sanitizers.test.ts with clang -fsanitize=address.
#include <cstdio>
#include <cstring>

#include "fmp4-segmenter.h"
#include "ts-segmenter.h"

using abrcast::CodecContextPtr;
using abrcast::FFmpegError;
using abrcast::Fmp4Segmenter;
using abrcast::TsSegmenter;

int main() {
  av_log_set_level(AV_LOG_QUIET);
  CodecContextPtr video(avcodec_alloc_context3(nullptr));
  video->codec_type = AVMEDIA_TYPE_VIDEO;
  video->codec_id = AV_CODEC_ID_H264;
  video->width = 160;
  video->height = 90;
  video->time_base = AVRational{1, 30};
  CodecContextPtr audio(avcodec_alloc_context3(nullptr));
  audio->codec_type = AVMEDIA_TYPE_AUDIO;
  audio->codec_id = AV_CODEC_ID_AAC;
  audio->time_base = AVRational{1, 48000};  // no sample_rate: avformat_write_header fails
  int failures = 0;
  for (int i = 0; i < 3; ++i) {
    try {
      TsSegmenter segmenter("90p", video.get(), audio.get(), 1 << 16);
      std::puts("expected the header to fail");
      return 1;
    } catch (const FFmpegError& error) {
      if (std::strstr(error.what(), "Cannot write MPEG-TS header for rendition 90p") == nullptr) {
        std::printf("unexpected error: %s\n", error.what());
        return 1;
      }
      ++failures;
    }
  }
  // fMP4: avcC needs the SPS/PPS as extradata (a minimal baseline SPS and PPS, Annex B).
  static const uint8_t kParameterSets[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0d, 0xda, 0x0a, 0x1f, 0x90,
                                           0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80};
  video->extradata = static_cast<uint8_t*>(av_mallocz(sizeof kParameterSets + AV_INPUT_BUFFER_PADDING_SIZE));
  std::memcpy(video->extradata, kParameterSets, sizeof kParameterSets);
  video->extradata_size = int(sizeof kParameterSets);
  for (int i = 0; i < 3; ++i) {
    try {
      Fmp4Segmenter segmenter("90p", video.get(), audio.get(), 1 << 16);
      std::puts("expected the fMP4 header to fail");
      return 1;
    } catch (const FFmpegError& error) {
      if (std::strstr(error.what(), "Cannot write fMP4 header for rendition 90p") == nullptr) {
        std::printf("unexpected error: %s\n", error.what());
        return 1;
      }
      ++failures;
    }
  }
  // And one of each that works, written through to the trailer.
  TsSegmenter ok("90p", video.get(), nullptr, 1 << 16);
  Fmp4Segmenter fmp4("90p", video.get(), nullptr, 1 << 16);
  std::printf("header failed %d times, as expected; finish() gave %zu bytes, fMP4 init %zu bytes\n", failures, ok.finish().size(),
              fmp4.initSegment().size());
  return fmp4.initSegment().empty() ? 1 : 0;
}
