// The one "stop" signal of the core's threads (named after C++20's std::stop_token): set once by
// whoever stops a worker (abort(), stop()), read by the worker between steps, and by FFmpeg's
// interrupt callback during a blocking open or read (InputInterrupt). A worker that waits on a
// condition variable is stopped under that variable's mutex, then notified, so no wake-up is lost.
#pragma once

#include <atomic>

namespace abrcast {

class StopToken {
 public:
  void requestStop() { stopped_.store(true); }
  bool stopRequested() const { return stopped_.load(); }

 private:
  std::atomic<bool> stopped_{false};
};

}  // namespace abrcast
