#include "pipeline-registry.h"

#include <atomic>
#include <cstdlib>

#include "thread-budget.h"

namespace abrcast {

namespace {

std::atomic<bool> processExiting{false};

}  // namespace

PipelineRegistry& PipelineRegistry::instance() {
  static PipelineRegistry* registry = [] {
    auto* created = new PipelineRegistry;
    std::atexit(&PipelineRegistry::stopAllAtExit);
    return created;
  }();
  return *registry;
}

bool PipelineRegistry::exiting() { return processExiting.load(); }

PipelineHandle PipelineRegistry::open(EncoderConfig config, PipelineEvents* events) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (processExiting) throw FFmpegError("Cannot create an encoder: the process is exiting");
  config.threads = planEncoderThreads(config, int(liveCountLocked()) + 1);
  std::unique_ptr<LadderPipeline> pipeline(new LadderPipeline(std::move(config), events));
  // When its graph thread cannot start, nothing was registered and `pipeline` frees what was built.
  pipeline->start();
  LadderPipeline* raw = pipeline.get();
  pipelines_.emplace(raw, std::move(pipeline));
  return PipelineHandle(raw);
}

size_t PipelineRegistry::liveCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  return liveCountLocked();
}

size_t PipelineRegistry::liveCountLocked() const {
  size_t live = 0;
  for (const auto& entry : pipelines_) live += entry.second->finished() ? 0 : 1;
  return live;
}

void PipelineRegistry::close(LadderPipeline* pipeline) {
  // Freed under the lock, so exit() on another thread waits for it rather than stopping a
  // pipeline half destroyed. Its threads never take this lock, so joining them here cannot deadlock.
  std::lock_guard<std::mutex> lock(mutex_);
  pipelines_.erase(pipeline);  // ~LadderPipeline stops it: abort, then join
}

void PipelineRegistry::stopAllAtExit() {
  processExiting = true;
  PipelineRegistry& registry = instance();
  std::lock_guard<std::mutex> lock(registry.mutex_);
  // All aborted first, so they wind down together.
  for (auto& [raw, pipeline] : registry.pipelines_) pipeline->abort();
  for (auto& [raw, pipeline] : registry.pipelines_) pipeline->join();
}

PipelineHandle& PipelineHandle::operator=(PipelineHandle&& other) noexcept {
  if (this != &other) {
    reset();
    pipeline_ = other.pipeline_;
    other.pipeline_ = nullptr;
  }
  return *this;
}

void PipelineHandle::reset() {
  if (!pipeline_) return;
  LadderPipeline* pipeline = pipeline_;
  pipeline_ = nullptr;
  PipelineRegistry::instance().close(pipeline);
}

}  // namespace abrcast
