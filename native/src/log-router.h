// Routes FFmpeg's log lines to the pipeline whose thread produced them, as
// warning events, instead of FFmpeg's default of printing to stderr.
#pragma once

#include <string>

namespace abrcast {

class WarningSink;

// Installs the av_log callback once per process.
void installLogRouter();

// While alive, warnings logged on this thread go to `events`, prefixed with `prefix`.
class ScopedLogTarget {
 public:
  ScopedLogTarget(WarningSink* events, std::string prefix);
  ~ScopedLogTarget();
  ScopedLogTarget(const ScopedLogTarget&) = delete;
  ScopedLogTarget& operator=(const ScopedLogTarget&) = delete;

 private:
  WarningSink* previousEvents_;
  std::string previousPrefix_;
};

}  // namespace abrcast
