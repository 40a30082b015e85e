#include "log-router.h"

#include <cstdarg>
#include <mutex>

#include "ffmpeg.h"
#include "pipeline-events.h"

namespace abrcast {
namespace {

struct ThreadLogState {
  WarningSink* events = nullptr;
  std::string prefix;
  std::string partialLine;  // av_log may deliver one line in several calls
  int printPrefix = 1;
};

thread_local ThreadLogState threadLog;

void routeLogLine(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING) return;
  ThreadLogState& state = threadLog;
  if (!state.events) return;  // a thread that belongs to no pipeline: stay silent
  char line[1024];
  av_log_format_line2(avcl, level, format, args, line, sizeof line, &state.printPrefix);
  state.partialLine += line;
  if (state.partialLine.empty() || state.partialLine.back() != '\n') return;
  state.partialLine.pop_back();
  if (!state.partialLine.empty()) state.events->onWarning(state.prefix + state.partialLine);
  state.partialLine.clear();
}

}  // namespace

void installLogRouter() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(routeLogLine); });
}

ScopedLogTarget::ScopedLogTarget(WarningSink* events, std::string prefix)
    : previousEvents_(threadLog.events), previousPrefix_(threadLog.prefix) {
  threadLog.events = events;
  threadLog.prefix = std::move(prefix);
}

ScopedLogTarget::~ScopedLogTarget() {
  threadLog.events = previousEvents_;
  threadLog.prefix = std::move(previousPrefix_);
  threadLog.partialLine.clear();
}

}  // namespace abrcast
