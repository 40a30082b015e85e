// How many CPUs this process may use, which the thread budget is sized from (thread-budget.h).
// std::thread::hardware_concurrency() counts the host's CPUs: a 2-CPU container on a 64-core host
// would size every encoder for 64. Here: the CPUs in the affinity mask, bounded by a cgroup CPU
// quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, the smallest along the cgroup's path
// up to its mount, rounded up), at least 1. Windows: the process's affinity mask across its groups;
// macOS and others: hardware_concurrency().
#pragma once

#include <string>

namespace abrcast {

struct UsableCpus {
  int count = 1;       // what to size threads from
  int affinity = 0;    // CPUs in the affinity mask (or online), before any quota
  double quota = 0;    // the cgroup quota in CPUs (e.g. 1.5); 0: none
  std::string source;  // how it was decided, e.g. "affinity 64 CPUs, cgroup v2 cpu.max 200000 100000 (/sys/fs/cgroup/app)"
};

// Counted afresh on each call (a few small reads): the affinity or the quota may change at run time.
UsableCpus countUsableCpus();

// The cgroup part alone, reading /proc/self/cgroup, /proc/self/mountinfo and the cgroup files under
// `root` instead of "/" (a test's fake tree). Returns the quota in CPUs, 0 when none applies, and
// says which file set it in `where`. Linux only; elsewhere 0.
double cgroupCpuQuota(const std::string& root, std::string* where);

// affinity bounded by quota: min(affinity, ceil(quota)) when quota > 0, at least 1.
int boundByQuota(int affinity, double quota);

}  // namespace abrcast
