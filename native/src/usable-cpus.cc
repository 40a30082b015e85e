#include "usable-cpus.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>

#include <cerrno>
#elif defined(_WIN32)
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0601
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0601  // GetActiveProcessorCount, processor groups: Windows 7
#endif
#include <windows.h>
#endif

namespace abrcast {

namespace {

int hostCpus() { return int(std::max(1u, std::thread::hardware_concurrency())); }

std::string cpusText(int count) { return std::to_string(count) + (count == 1 ? " CPU" : " CPUs"); }

[[maybe_unused]] std::string formatCpus(double cpus) {
  std::ostringstream out;
  out << cpus;
  return out.str();
}

#if defined(__linux__)

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountPath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto octal = [&](size_t at) { return at < path.size() && path[at] >= '0' && path[at] <= '7'; };
    if (path[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out += char((path[i + 1] - '0') * 64 + (path[i + 2] - '0') * 8 + (path[i + 3] - '0'));
      i += 3;
    } else {
      out += path[i];
    }
  }
  return out;
}

struct CgroupMount {
  std::string root;        // the part of the hierarchy mounted there (field 4)
  std::string mountPoint;  // where (field 5)
};

// The mounts of cgroup v2 (`controller` empty) or of the v1 hierarchy that has `controller`.
std::vector<CgroupMount> cgroupMounts(const std::string& mountinfo, const std::string& controller) {
  std::vector<CgroupMount> mounts;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, device, root, mountPoint;
    if (!(head >> id >> parent >> device >> root >> mountPoint)) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fsType, source, superOptions;
    if (!(tail >> fsType >> source >> superOptions)) continue;
    const bool wanted = controller.empty() ? fsType == "cgroup2"
                                           : fsType == "cgroup" && contains(split(superOptions, ','), controller);
    if (wanted) mounts.push_back({unescapeMountPath(root), unescapeMountPath(mountPoint)});
  }
  return mounts;
}

// This process's path in the v2 hierarchy (`controller` empty) or in the v1 one that has `controller`.
bool cgroupPath(const std::string& procCgroup, const std::string& controller, std::string* path) {
  std::istringstream lines(procCgroup);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string id = line.substr(0, first);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const bool wanted = controller.empty() ? id == "0" && controllers.empty() : contains(split(controllers, ','), controller);
    if (wanted) {
      *path = line.substr(second + 1);
      return true;
    }
  }
  return false;
}

// The quota set in one cgroup directory, in CPUs; 0 when none.
double quotaIn(const std::string& dir, bool v2, std::string* where) {
  if (v2) {
    std::istringstream in(readFile(dir + "/cpu.max"));
    std::string quota;
    double period = 0;
    if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
    const double cpus = std::atof(quota.c_str()) / period;
    if (cpus > 0) *where = "cgroup v2 cpu.max " + quota + " " + formatCpus(period) + " (" + dir + ")";
    return cpus > 0 ? cpus : 0;
  }
  const std::string quota = readFile(dir + "/cpu.cfs_quota_us");
  const double period = std::atof(readFile(dir + "/cpu.cfs_period_us").c_str());
  const double quotaUs = std::atof(quota.c_str());
  if (quotaUs <= 0 || period <= 0) return 0;  // -1: no limit
  *where = "cgroup v1 cpu.cfs_quota_us " + formatCpus(quotaUs) + " / cpu.cfs_period_us " + formatCpus(period) + " (" + dir + ")";
  return quotaUs / period;
}

// The smallest quota from this process's cgroup up to the top of its mount: a parent's limit binds its children.
double quotaAlongPath(const std::string& root, const std::string& procCgroup, const std::string& mountinfo, bool v2,
                      std::string* where) {
  const std::string controller = v2 ? "" : "cpu";
  std::string path;
  if (!cgroupPath(procCgroup, controller, &path)) return 0;
  double smallest = 0;
  for (const CgroupMount& mount : cgroupMounts(mountinfo, controller)) {
    // The path below the mount: all of it when the mount shows the whole hierarchy ("/"), the rest
    // when it shows a part (a container's own cgroup), none when this process is outside that part.
    std::string below;
    if (mount.root == "/") {
      below = path;
    } else if (path.compare(0, mount.root.size(), mount.root) == 0 &&
               (path.size() == mount.root.size() || path[mount.root.size()] == '/')) {
      below = path.substr(mount.root.size());
    }
    if (below == "/") below.clear();
    for (;;) {
      std::string found;
      const double cpus = quotaIn(root + mount.mountPoint + below, v2, &found);
      if (cpus > 0 && (smallest == 0 || cpus < smallest)) {
        smallest = cpus;
        *where = found;
      }
      if (below.empty()) break;
      below.erase(below.rfind('/'));
    }
    if (smallest > 0) break;
  }
  return smallest;
}

// Freed with CPU_FREE (a macro, so a function of our own).
struct CpuSetDeleter {
  void operator()(cpu_set_t* set) const { CPU_FREE(set); }
};

int affinityCpus() {
  // cpu_set_t holds 1024 CPUs; larger machines need a larger set, so grow it until the kernel's fits.
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    std::unique_ptr<cpu_set_t, CpuSetDeleter> set(CPU_ALLOC(cpus));
    if (!set) return 0;
    const size_t size = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(size, set.get());
    if (sched_getaffinity(0, size, set.get()) == 0) return CPU_COUNT_S(size, set.get());
    if (errno != EINVAL) return 0;
  }
  return 0;
}

#elif defined(_WIN32)

int affinityCpus() {
  const DWORD all = std::max<DWORD>(GetActiveProcessorCount(ALL_PROCESSOR_GROUPS), 1);
  // The affinity mask covers one processor group; a process spread over several uses all of them.
  USHORT groups = 0;
  if (!GetProcessGroupAffinity(GetCurrentProcess(), &groups, nullptr) && GetLastError() == ERROR_INSUFFICIENT_BUFFER &&
      groups > 1) {
    return int(all);
  }
  DWORD_PTR processMask = 0;
  DWORD_PTR systemMask = 0;
  if (!GetProcessAffinityMask(GetCurrentProcess(), &processMask, &systemMask) || processMask == 0) return int(all);
  int count = 0;
  for (DWORD_PTR mask = processMask; mask != 0; mask &= mask - 1) ++count;
  return count;
}

// A job object's hard CPU rate cap (what `docker run --cpus` sets on Windows), in CPUs; 0 when none.
double jobCpuQuota(int hostCpus, std::string* where) {
  JOBOBJECT_CPU_RATE_CONTROL_INFORMATION rate = {};
  if (!QueryInformationJobObject(nullptr, JobObjectCpuRateControlInformation, &rate, sizeof rate, nullptr)) return 0;
  const DWORD flags = rate.ControlFlags;
  if (!(flags & JOB_OBJECT_CPU_RATE_CONTROL_ENABLE) || !(flags & JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP)) return 0;
  // CpuRate: hundredths of a percent of every CPU of the machine.
  const double cpus = double(rate.CpuRate) / 10000.0 * hostCpus;
  *where = "job object CPU rate " + formatCpus(rate.CpuRate / 100.0) + " %";
  return cpus;
}

#endif

}  // namespace

int boundByQuota(int affinity, double quota) {
  int count = std::max(1, affinity);
  if (quota > 0) count = std::min(count, int(std::ceil(quota - 1e-9)));
  return std::max(1, count);
}

double cgroupCpuQuota(const std::string& root, std::string* where) {
#if defined(__linux__)
  const std::string procCgroup = readFile(root + "/proc/self/cgroup");
  const std::string mountinfo = readFile(root + "/proc/self/mountinfo");
  if (procCgroup.empty() || mountinfo.empty()) return 0;
  std::string v2Where;
  std::string v1Where;
  const double v2 = quotaAlongPath(root, procCgroup, mountinfo, true, &v2Where);
  const double v1 = quotaAlongPath(root, procCgroup, mountinfo, false, &v1Where);
  // A hybrid host has both hierarchies; the cpu controller is in one of them, and the tighter binds.
  if (v2 > 0 && (v1 <= 0 || v2 <= v1)) {
    *where = v2Where;
    return v2;
  }
  if (v1 > 0) *where = v1Where;
  return v1;
#else
  (void)root;
  (void)where;
  return 0;
#endif
}

UsableCpus countUsableCpus() {
  UsableCpus result;
  std::string where;  // what set the quota
#if defined(__linux__)
  const int affinity = affinityCpus();
  result.affinity = affinity > 0 ? affinity : hostCpus();
  result.source = affinity > 0 ? "affinity " + cpusText(affinity) : "hardware_concurrency " + cpusText(hostCpus());
  result.quota = cgroupCpuQuota("", &where);
#elif defined(_WIN32)
  result.affinity = affinityCpus();
  result.source = "affinity " + cpusText(result.affinity);
  result.quota = jobCpuQuota(std::max(int(GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)), hostCpus()), &where);
#else
  result.affinity = hostCpus();
  result.source = "hardware_concurrency " + cpusText(result.affinity);
#endif
  if (result.quota > 0) result.source += ", " + where;
  result.count = boundByQuota(result.affinity, result.quota);
  return result;
}

}  // namespace abrcast
