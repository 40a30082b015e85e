// One thread budget per process. Every encoder sizes its threads (x264's frame threads, the CPU
// scaler's helpers, a file's decoder) from a share of it, fixed when the encoder is created: the
// budget divided by the encoders then live (this one included), or the encoder's own `threads`
// option, at least one x264 thread per rendition. The budget is setThreadBudget()'s, else the CPUs
// this process may use (usable-cpus.h), counted afresh for each encoder. So K ladders in one process
// start about as many working threads as the machine lets it run, not K x the host's cores.
// docs/native-lifetime.md says what counts and what does not.
#pragma once

#include "config.h"
#include "usable-cpus.h"

namespace abrcast {

// The most a budget or a share may be: far above any machine's CPUs, well below what would exhaust threads.
constexpr int kMaxThreads = 1024;

// 0: the CPUs this process may use (the default). Process-wide; applies to encoders created after.
void setThreadBudget(int threads);

struct ThreadBudget {
  int threads = 1;      // what the next encoder's share is cut from
  bool set = false;     // setThreadBudget() chose it
  UsableCpus cpus;
};
ThreadBudget currentThreadBudget();

// The threads of an encoder of `config`'s ladder and input given `share` threads (pure).
ThreadPlan planThreads(const EncoderConfig& config, int share);

// The plan of a new encoder when `liveEncoders` encoders (it included) share the budget.
ThreadPlan planEncoderThreads(const EncoderConfig& config, int liveEncoders);

}  // namespace abrcast
