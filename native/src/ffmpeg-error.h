// The one exception type of the core; its message reaches JS unchanged. Its own header, so the
// parts that do not touch FFmpeg (SegmentCutter) build and are tested without it.
#pragma once

#include <stdexcept>

namespace abrcast {

class FFmpegError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace abrcast
