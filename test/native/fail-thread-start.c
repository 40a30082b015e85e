// Test support (LD_PRELOAD): makes one thread start of the abrcast addon fail, as a process out of
// threads would (EAGAIN from pthread_create: RLIMIT_NPROC, a cgroup's pids.max, kernel.threads-max).
// ABRCAST_TEST_FAIL_THREAD=N fails the Nth pthread_create whose call stack passes through the addon,
// FFmpeg or x264 (Node's own threads are not counted), once, and reports it on stderr. Read once,
// at the first call: the environment is never read again while other threads may change it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*create_fn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long target = -1;  // -1: not read yet
static long counted = 0;

// The library among the first frames that belongs to abrcast's side, or NULL.
static const char* abrcast_caller(void) {
  void* frames[16];
  const int depth = backtrace(frames, 16);
  static const char* const ours[] = {"abrcast", "libx264", "libavcodec", "libavfilter", "libavutil", "libswscale"};
  for (int i = 1; i < depth; ++i) {
    Dl_info info;
    if (!dladdr(frames[i], &info) || !info.dli_fname) continue;
    for (size_t j = 0; j < sizeof ours / sizeof ours[0]; ++j) {
      if (strstr(info.dli_fname, ours[j])) return info.dli_fname;
    }
  }
  return NULL;
}

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  static create_fn real;
  if (!real) real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
  pthread_mutex_lock(&lock);
  if (target < 0) {
    const char* value = getenv("ABRCAST_TEST_FAIL_THREAD");
    target = value ? atol(value) : 0;
  }
  const long wanted = target;
  pthread_mutex_unlock(&lock);
  if (wanted > 0) {
    const char* caller = abrcast_caller();
    if (caller) {
      pthread_mutex_lock(&lock);
      const int fail = ++counted == wanted;
      pthread_mutex_unlock(&lock);
      if (fail) {
        fprintf(stderr, "fail-thread-start: failed thread start #%ld (called from %s)\n", wanted, caller);
        return EAGAIN;
      }
    }
  }
  return real(thread, attr, start, arg);
}
