// TsSegmenter's error paths free what they allocated (issue 14, finding 9):
// a muxer whose header cannot be written (an audio stream without a sample
// rate) throws, and LeakSanitizer, run at exit, finds nothing left behind.
// Built and run by test/native/sanitizers.test.ts with clang -fsanitize=address.
#include <cstdio>
#include <cstring>

#include "ts-segmenter.h"

using abrcast::CodecContextPtr;
using abrcast::FFmpegError;
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
  // And one that works, written through to the trailer.
  TsSegmenter ok("90p", video.get(), nullptr, 1 << 16);
  std::printf("header failed %d times, as expected; finish() gave %zu bytes\n", failures, ok.finish().size());
  return 0;
}
