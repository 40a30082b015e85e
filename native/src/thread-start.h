// How the core starts its threads. A failed start (std::system_error, e.g. EAGAIN when the process,
// its user or its cgroup has no thread left) becomes an FFmpegError naming what the thread was
// for: it reaches JS as the failing call's or the open's error like any other, never
// std::terminate, and what the caller built so far is unwound by its owner (RAII).
#pragma once

#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "ffmpeg.h"

namespace abrcast {

template <typename Body>
std::thread startThread(const std::string& what, Body&& body) {
  try {
    return std::thread(std::forward<Body>(body));
  } catch (const std::system_error& error) {
    throw FFmpegError("Cannot start " + what + ": " + errorText(AVERROR(error.code().value())));
  }
}

}  // namespace abrcast
