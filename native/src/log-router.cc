#include "log-router.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>

#include "ffmpeg.h"
#include "pipeline-events.h"

namespace abrcast {
namespace {

using Clock = std::chrono::steady_clock;

// One stream of lines to one sink, with its repeat count and per-second budget.
struct LineStream {
  WarningSink* events = nullptr;
  std::string prefix;
  std::string partialLine;  // av_log may deliver one line in several calls
  int printPrefix = 1;
  std::string lastLine;
  int repeats = 0;         // times lastLine came again, not yet reported
  Clock::time_point windowStart;
  int sentInWindow = 0;
  int heldBack = 0;        // lines over the budget in this window, not yet reported

  void send(const std::string& line) { events->onWarning(prefix + line); }

  // Reports what was counted instead of sent.
  void flushCounts() {
    if (!events) return;
    if (repeats > 0) send("(last message repeated " + std::to_string(repeats) + " times)");
    if (heldBack > 0) {
      send("(" + std::to_string(heldBack) + " more FFmpeg messages in one second were not reported)");
    }
    repeats = 0;
    heldBack = 0;
  }

  void line(const std::string& text) {
    if (text == lastLine) {
      ++repeats;
      return;
    }
    const auto now = Clock::now();
    if (now - windowStart >= std::chrono::seconds(1)) {
      flushCounts();
      windowStart = now;
      sentInWindow = 0;
    } else if (repeats > 0 && sentInWindow < ScopedLogTarget::kMaxLinesPerSecond) {
      send("(last message repeated " + std::to_string(repeats) + " times)");
      repeats = 0;
      ++sentInWindow;
    }
    lastLine = text;
    if (sentInWindow >= ScopedLogTarget::kMaxLinesPerSecond) {
      ++heldBack;
      return;
    }
    ++sentInWindow;
    send(text);
  }

  // Appends one av_log call; a complete line goes out.
  void append(void* avcl, int level, const char* format, va_list args) {
    char buffer[1024];
    av_log_format_line2(avcl, level, format, args, buffer, sizeof buffer, &printPrefix);
    partialLine += buffer;
    if (partialLine.empty() || partialLine.back() != '\n') return;
    partialLine.pop_back();
    if (!partialLine.empty()) line(partialLine);
    partialLine.clear();
  }

  void reset(WarningSink* sink, std::string text) {
    flushCounts();
    events = sink;
    prefix = std::move(text);
    partialLine.clear();
    lastLine.clear();
    sentInWindow = 0;
    windowStart = Clock::time_point();
  }
};

thread_local LineStream threadLog;

// Lines no pipeline claims (a decoder's frame threads log about their own copy of its context):
// to stderr as FFmpeg would print them, under the same repeat count and budget.
class StderrSink : public WarningSink {
 public:
  void onWarning(std::string message) override { std::fprintf(stderr, "%s\n", message.c_str()); }
};

// Contexts registered by ScopedLogContext; never freed, so threads still logging at exit find it.
std::mutex& contextsMutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::map<const void*, LineStream>& contexts() {
  static auto* map = new std::map<const void*, LineStream>;
  return *map;
}
LineStream& unmatched() {
  static auto* stream = [] {
    auto* created = new LineStream;
    created->reset(new StderrSink, "");
    return created;
  }();
  return *stream;
}

void routeLogLine(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING) return;
  if (threadLog.events) {
    threadLog.append(avcl, level, format, args);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(contextsMutex());
    auto found = contexts().find(avcl);
    if (found != contexts().end()) {
      found->second.append(avcl, level, format, args);
    } else if (level <= av_log_get_level()) {  // stderr honours the process's FFmpeg log level
      unmatched().append(avcl, level, format, args);
    }
  }
}

}  // namespace

void installLogRouter() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(routeLogLine); });
}

ScopedLogTarget::ScopedLogTarget(WarningSink* events, std::string prefix)
    : previousEvents_(threadLog.events), previousPrefix_(threadLog.prefix) {
  threadLog.reset(events, std::move(prefix));
}

ScopedLogTarget::~ScopedLogTarget() { threadLog.reset(previousEvents_, std::move(previousPrefix_)); }

ScopedLogContext::ScopedLogContext(const void* context, WarningSink* events, std::string prefix) : context_(context) {
  std::lock_guard<std::mutex> lock(contextsMutex());
  contexts()[context].reset(events, std::move(prefix));
}

ScopedLogContext::~ScopedLogContext() {
  std::lock_guard<std::mutex> lock(contextsMutex());
  auto found = contexts().find(context_);
  if (found == contexts().end()) return;
  found->second.flushCounts();
  contexts().erase(found);
}

}  // namespace abrcast
