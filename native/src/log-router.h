// Routes FFmpeg's log lines to the pipeline whose thread produced them, as
// warning events, instead of FFmpeg's default of printing to stderr.
//
// av_log's callback is process-wide, so each line is matched to a pipeline by
// the thread that logs it (ScopedLogTarget) or, for threads FFmpeg or x264
// start themselves, by the object it is about (ScopedLogContext). A line that
// matches neither goes to stderr (as FFmpeg prints it), never nowhere.
// A per-frame warning must not flood JS: repeats of the same line are counted
// and reported once ("repeated N times"), and each thread sends at most
// kMaxLinesPerSecond lines a second, reporting how many it held back.
#pragma once

#include <string>

namespace abrcast {

class WarningSink;

// Installs the av_log callback once per process.
void installLogRouter();

// While alive, warnings logged on this thread go to `events`, prefixed with `prefix`.
class ScopedLogTarget {
 public:
  static constexpr int kMaxLinesPerSecond = 10;

  ScopedLogTarget(WarningSink* events, std::string prefix);
  ~ScopedLogTarget();
  ScopedLogTarget(const ScopedLogTarget&) = delete;
  ScopedLogTarget& operator=(const ScopedLogTarget&) = delete;

 private:
  WarningSink* previousEvents_;
  std::string previousPrefix_;
};

// While alive, lines about `context` (an AVCodecContext, AVFormatContext…) logged on threads
// that have no ScopedLogTarget go to `events`, prefixed with `prefix`.
class ScopedLogContext {
 public:
  ScopedLogContext(const void* context, WarningSink* events, std::string prefix);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  const void* context_;
};

}  // namespace abrcast
