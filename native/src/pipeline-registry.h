// The one owner of every live LadderPipeline in the process. It builds a pipeline, plans its threads
// (thread-budget.h), starts it, and registers it only once all of that succeeded; it is the only
// one that frees one (close(): abort, join, free). Everything else that ends a pipeline delegates
// here: the binding's dispose(), its destructor (the JS object collected) and its environment's
// teardown all drop their PipelineHandle, and exit() stops every pipeline still registered.
// docs/native-lifetime.md has the whole picture.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "config.h"
#include "ladder-pipeline.h"
#include "pipeline-events.h"

namespace abrcast {

class PipelineHandle;

class PipelineRegistry {
 public:
  // The process's registry; never destroyed, as threads may still look at it during exit.
  static PipelineRegistry& instance();

  // Plans the threads of a pipeline for `config`, builds it and starts its graph thread. Throws
  // FFmpegError naming what failed (a thread that would not start included), having registered
  // and left nothing running.
  PipelineHandle open(EncoderConfig config, PipelineEvents* events);

  // Pipelines registered whose threads still run: an encoder's share of the budget is cut by this count.
  size_t liveCount();
  // exit() has begun: every pipeline was stopped; no event may reach JS any more.
  static bool exiting();

 private:
  friend class PipelineHandle;
  PipelineRegistry() = default;
  // Stops (aborts, then joins every thread of) the pipeline and frees it. The only path that frees one.
  void close(LadderPipeline* pipeline);
  // At exit(): process.exit() and an uncaught exception end the process without Node's cleanup
  // hooks, so the threads are stopped here, before static destructors run (x264's, libcuda's).
  // Pipelines are stopped, not freed: their bindings may still point at them.
  static void stopAllAtExit();

  size_t liveCountLocked() const;

  std::mutex mutex_;
  std::map<LadderPipeline*, std::unique_ptr<LadderPipeline>> pipelines_;
};

// The binding's reference to its pipeline: moves, never copies; dropping it closes the pipeline.
class PipelineHandle {
 public:
  PipelineHandle() = default;
  PipelineHandle(PipelineHandle&& other) noexcept : pipeline_(other.pipeline_) { other.pipeline_ = nullptr; }
  PipelineHandle& operator=(PipelineHandle&& other) noexcept;
  PipelineHandle(const PipelineHandle&) = delete;
  PipelineHandle& operator=(const PipelineHandle&) = delete;
  ~PipelineHandle() { reset(); }

  // Closes the pipeline (see PipelineRegistry::close); nothing when already closed.
  void reset();
  LadderPipeline* operator->() const { return pipeline_; }
  explicit operator bool() const { return pipeline_ != nullptr; }

 private:
  friend class PipelineRegistry;
  explicit PipelineHandle(LadderPipeline* pipeline) : pipeline_(pipeline) {}
  LadderPipeline* pipeline_ = nullptr;
};

}  // namespace abrcast
