// Reads the cgroup CPU quota under a fake root (a directory the test fills in like /proc and /sys)
// and prints it, where it came from, and the usable CPUs for an affinity: "<quota> <cpus> <where>".
// Usage: usable-cpus-check <root> <affinity>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "usable-cpus.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: usable-cpus-check <root> <affinity>\n");
    return 2;
  }
  std::string where;
  const double quota = abrcast::cgroupCpuQuota(argv[1], &where);
  std::printf("%g %d %s\n", quota, abrcast::boundByQuota(std::atoi(argv[2]), quota), where.c_str());
  return 0;
}
