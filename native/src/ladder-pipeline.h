// The parent of the native core: it owns the frame pool, the filter graph, one
// RenditionEncoder per rendition and the graph thread, and closes them in order.
// Frames come from submit() (JS), or with config.input from a VideoFileSource
// thread that decodes a file into the same input queue (bounded then, so the
// decoder waits for the encoders). It knows nothing of Napi: events leave
// through PipelineEvents.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audio-pipeline.h"
#include "bounded-queue.h"
#include "config.h"
#include "ffmpeg.h"
#include "ladder-filter-graph.h"
#include "pipeline-events.h"
#include "pushed-frame-source.h"
#include "rendition-encoder.h"
#include "stop-token.h"
#include "video-file-source.h"

namespace abrcast {

class LadderPipeline {
 public:
  // Stops it: abort(), then join(). Only PipelineRegistry, its one owner, destroys one.
  ~LadderPipeline();
  LadderPipeline(const LadderPipeline&) = delete;
  LadderPipeline& operator=(const LadderPipeline&) = delete;

  // submit*() when that many frames (or samples) already wait: the caller does not await write(),
  // and memory stays bounded all the same. maxQueued*() say how many that is.
  static constexpr long kQueueFull = -2;
  static size_t maxQueuedFrames(const EncoderConfig& config) { return size_t(config.maxFramesInFlight) * 4 + 8; }

  // Queues one packed RGB frame of the caller's, read in place on the CPU path (pushed-frame-source.h):
  // `pixels` is returned (destroyed) once converted, or at once when it is copied or refused. Returns
  // the number of frames now waiting, or -1 when the pipeline no longer takes frames (ended or
  // failed), or kQueueFull.
  long submit(std::unique_ptr<BorrowedPixels> pixels);
  // config.cudaFrames: the same from a CUDA device pointer (`pitch` bytes per row), converted on
  // the GPU for NVENC or copied to host memory for x264 (cuda-frame-import.h).
  long submitCuda(uint64_t devicePtr, size_t pitch);
  // Copies interleaved float32 PCM (audio.kind == Pcm). Returns the sample
  // frames now waiting, or -1 when the pipeline no longer takes audio.
  long submitAudio(const float* samples, size_t frames);
  // Timed metadata for every rendition (config.timedMetadata for MPEG-TS). False when the pipeline
  // no longer takes input.
  bool submitMetadata(const TimedMetadata& metadata);

  // File input: start decoding (at once, or as soon as the input is open). Throws when called twice.
  void startInput();
  // No more frames: flush everything, emit the last segments, then onFinished.
  // File input: stop reading it; what was read is still encoded.
  void endInput();
  // Stop at once, dropping queued work; onFinished still follows.
  void abort();
  // Waits for the graph thread (and through it every encoder thread).
  void join();

  // How many threads it runs (thread-budget.h), decided when it was created.
  const ThreadPlan& threadPlan() const { return config_.threads; }
  // Its threads are done (onFinished is on its way): it no longer counts against the thread budget.
  bool finished() const { return finished_.load(); }

 private:
  friend class PipelineRegistry;
  // Built and started by PipelineRegistry, its one owner (pipeline-registry.h). `config.threads` is
  // its thread plan. Builds only what takes no I/O.
  LadderPipeline(EncoderConfig config, PipelineEvents* events);
  // Starts the graph thread; returns at once. It opens the inputs, CUDA, the graph and every
  // encoder, then reports onReady() (or onError() naming what failed, then onFinished()). Frames
  // and PCM written meanwhile are queued; abort() interrupts an open that waits on the network.
  // Throws FFmpegError when the thread cannot start.
  void start();

  void run();
  void open();
  void runGraph();
  void startFileInput();
  void stopLocked();
  void drainGraph();
  void fail(const std::string& message);
  void warnShortestOnce();
  void reportProgress();
  long queue(FramePtr& frame);

  EncoderConfig config_;
  PipelineEvents* events_;
  BufferRefPtr cudaDevice_;
  std::unique_ptr<VideoFileSource> file_;  // file input only
  std::unique_ptr<PushedFrameSource> pushed_;  // write() and writeCuda() input only
  std::unique_ptr<LadderFilterGraph> graph_;
  std::unique_ptr<AudioPipeline> audio_;  // before renditions_, which read from it
  std::vector<std::unique_ptr<RenditionEncoder>> renditions_;
  // From JS: unbounded (backpressure is the caller's, through onDrain); from a file: maxFramesInFlight.
  BoundedQueue<FramePtr> input_;
  std::thread graphThread_;

  std::atomic<bool> failed_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> inputEnded_{false};
  StopToken aborting_;  // abort() was called: interrupts opening
  std::atomic<bool> opened_{false};
  bool startRequested_ = false;  // under stateMutex_
  std::vector<TimedMetadata> earlyMetadata_;  // under stateMutex_: submitted before the renditions opened
  // Guards file_ and renditions_, which the graph thread publishes once opened,
  // against the JS thread's abort(), endInput() and startInput().
  std::mutex stateMutex_;
  std::once_flag failOnce_;
  int64_t framesIn_ = 0;
  bool warnedShortest_ = false;
  std::chrono::steady_clock::time_point lastProgress_;
  FramePtr scaled_;
};

}  // namespace abrcast
