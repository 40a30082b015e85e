// Opening a file or URL with libavformat, and what the CLI and TS need to
// know about it before an encode starts (size, frame rate, length, audio).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ffmpeg.h"
#include "stop-token.h"

namespace abrcast {

// What makes a blocking open or read give up: stop tokens other threads set, and a deadline while
// opening. FFmpeg's protocols keep a pointer to it: it must outlive the format context.
struct InputInterrupt {
  const StopToken* tokens[2] = {nullptr, nullptr};
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::atomic<bool> expired{false};

  bool cancelled() const {
    return (tokens[0] && tokens[0]->stopRequested()) || (tokens[1] && tokens[1]->stopRequested());
  }
  static int check(void* opaque);
};

// Opens `source` and reads its stream info. Errors name the source, as `label`
// says: "Cannot open input /x.mp4: No such file or directory".
// `interrupt` lets blocking network reads give up. `timeoutSeconds` (> 0) bounds
// the open and probe ("Cannot open input http://…: no answer within 5 s") and, as the protocols'
// rw_timeout, every later read or write.
InputFormatPtr openMediaInput(const std::string& source, InputInterrupt* interrupt, const char* label = "input",
                              double timeoutSeconds = 0);

// Index of the best stream of `type` (audio or video), with its decoder;
// throws "No video stream in <source>" when there is none.
int findBestStream(AVFormatContext* format, AVMediaType type, const std::string& source, const AVCodec** codec);

// The rate frames are shown at: the container's average, else the codec's guess. {0, 1} when unknown.
AVRational guessFrameRate(AVFormatContext* format, int streamIndex);

struct MediaInfo {
  int width = 0;
  int height = 0;
  AVRational frameRate{0, 1};
  double durationSeconds = -1;  // -1: unknown (live streams, some raw formats)
  int64_t frames = -1;          // -1: the container does not say
  std::string pixelFormat;      // e.g. yuv420p; empty when not yet known
  std::string videoCodec;
  std::string audioCodec;       // empty: no audio stream
  std::string formatName;
};

// Throws FFmpegError with the source named when it cannot be opened or has no video.
MediaInfo probeMedia(const std::string& source, double timeoutSeconds = 0);

}  // namespace abrcast
