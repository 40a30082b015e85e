#include "ladder-pipeline.h"

#include <algorithm>

#include "cuda-driver.h"
#include "log-router.h"
#include "thread-start.h"

namespace abrcast {

LadderPipeline::LadderPipeline(EncoderConfig config, PipelineEvents* events)
    : config_(std::move(config)),
      events_(events),
      input_(config_.fromFile() ? size_t(config_.maxFramesInFlight) : 0),
      scaled_(allocFrame()) {
  installLogRouter();
  // Only what takes no I/O happens here, on the caller's (JS) thread: frames and PCM written
  // meanwhile are queued. Opening inputs, CUDA and the encoders happens on the graph thread.
  if (!config_.fromFile()) {
    // Rows aligned for SIMD. Device frames open CUDA later, on the graph thread.
    pushed_ = std::make_unique<PushedFrameSource>(config_.width, config_.height, config_.inputFormat, config_.cudaFrames,
                                                  config_.encoder == EncoderKind::Nvenc, 64);
  }
  if (config_.audio.enabled()) {
    audio_ = std::make_unique<AudioPipeline>(config_, events_, [this](const std::string& message) { fail(message); });
  }
}

void LadderPipeline::start() { graphThread_ = startThread("the encoder's graph thread", [this] { run(); }); }

void LadderPipeline::open() {
  // Warnings raised while opening go to this pipeline too.
  ScopedLogTarget logTarget(events_, "");
  if (config_.encoder == EncoderKind::Nvenc) {
    cudaDevice_ = sharedCudaDevice();
  }

  std::unique_ptr<VideoFileSource> file;
  FrameSource* frames = pushed_.get();
  if (config_.fromFile()) {
    // Opens the input and decodes its first frame: a bad path fails here, named.
    file = std::make_unique<VideoFileSource>(config_, events_, &aborting_);
    frames = file.get();
  } else {
    // Device frames: writeCuda() takes them once opened_ says this is done.
    pushed_->openDevice();
  }
  const VideoFrameFormat source = frames->frameFormat();

  // The audio source opens before the encoders: a bad path is a likely mistake and cheap to find.
  if (audio_) audio_->openSource();
  graph_ = std::make_unique<LadderFilterGraph>(config_, source, cudaDevice_.get());
  std::vector<std::unique_ptr<RenditionEncoder>> renditions;
  for (size_t i = 0; i < config_.renditions.size(); ++i) {
    renditions.push_back(std::make_unique<RenditionEncoder>(int(i), config_, graph_->sink(i), audio_.get(), events_,
                                                            [this](const std::string& message) { fail(message); }));
  }
  bool startFile = false;
  {
    // Published under the lock the JS thread's abort()/endInput()/startInput() take.
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (aborting_.stopRequested()) throw FFmpegError("Encoder aborted");
    file_ = std::move(file);
    renditions_ = std::move(renditions);
    for (auto& rendition : renditions_) {
      for (const TimedMetadata& metadata : earlyMetadata_) rendition->addMetadata(metadata);
    }
    earlyMetadata_.clear();
    for (auto& rendition : renditions_) rendition->start();
    if (audio_) audio_->start();
    startFile = file_ && startRequested_ && !inputEnded_;
    opened_ = true;
  }
  if (startFile) startFileInput();
}

void LadderPipeline::run() {
  try {
    open();
  } catch (const std::exception& error) {
    // Nothing was started but this thread: report and finish.
    if (!aborting_.stopRequested()) fail(error.what());
    failed_ = true;
    input_.discard();
    if (audio_) audio_->abort();
    PipelineSummary summary;
    finished_ = true;
    events_->onFinished(std::move(summary), true);
    return;
  }
  events_->onReady();
  runGraph();
}

LadderPipeline::~LadderPipeline() {
  abort();
  join();
}

long LadderPipeline::queue(FramePtr& frame) {
  if (!input_.push(frame)) return -1;
  return long(input_.size());
}

long LadderPipeline::submit(std::unique_ptr<BorrowedPixels> pixels) {
  if (failed_ || inputEnded_ || !pushed_ || !pushed_->takesHostFrames()) return -1;
  if (input_.size() >= maxQueuedFrames(config_)) return kQueueFull;
  FramePtr frame = pushed_->fromHost(std::move(pixels));
  return queue(frame);
}

long LadderPipeline::submitCuda(uint64_t devicePtr, size_t pitch) {
  if (failed_ || inputEnded_) return -1;
  if (!opened_) throw FFmpegError("The encoder is still opening: wait for it (await encoder.ready) before writing device frames");
  if (!pushed_ || !pushed_->deviceOpen()) return -1;
  if (input_.size() >= maxQueuedFrames(config_)) return kQueueFull;
  FramePtr frame = pushed_->fromDevice(devicePtr, pitch);
  return queue(frame);
}

long LadderPipeline::submitAudio(const float* samples, size_t frames) {
  if (failed_ || inputEnded_ || !audio_) return -1;
  return audio_->submitPcm(samples, frames);
}

bool LadderPipeline::submitMetadata(const TimedMetadata& metadata) {
  if (failed_ || inputEnded_) return false;
  std::lock_guard<std::mutex> lock(stateMutex_);
  if (renditions_.empty()) earlyMetadata_.push_back(metadata);
  for (auto& rendition : renditions_) rendition->addMetadata(metadata);
  return true;
}

void LadderPipeline::startInput() {
  std::unique_lock<std::mutex> lock(stateMutex_);
  if (!config_.fromFile() || inputEnded_) return;
  if (startRequested_) throw FFmpegError("start() was already called for " + config_.input.source);
  startRequested_ = true;
  if (!opened_) return;  // open() starts it
  lock.unlock();
  startFileInput();
}

void LadderPipeline::startFileInput() {
  file_->start([this](FramePtr& frame) { return input_.push(frame); },
               [this](const std::string& message) { fail(message); },
               [this] { input_.close(); });
}

void LadderPipeline::endInput() {
  std::lock_guard<std::mutex> lock(stateMutex_);
  inputEnded_ = true;
  if (file_) file_->stop();
  input_.close();
  if (audio_) audio_->endInput();
}

void LadderPipeline::abort() {
  std::lock_guard<std::mutex> lock(stateMutex_);
  aborting_.requestStop();
  stopLocked();
}

void LadderPipeline::join() {
  if (graphThread_.joinable()) graphThread_.join();
  if (file_) file_->join();
}

void LadderPipeline::stopLocked() {
  inputEnded_ = true;
  failed_ = true;
  if (file_) file_->stop();
  input_.discard();
  if (audio_) audio_->abort();
  for (auto& rendition : renditions_) rendition->abort();
}

void LadderPipeline::fail(const std::string& message) {
  std::call_once(failOnce_, [&] {
    failed_ = true;
    events_->onError(message);
    std::lock_guard<std::mutex> lock(stateMutex_);
    stopLocked();
  });
}

void LadderPipeline::drainGraph() {
  for (size_t i = 0; i < renditions_.size(); ++i) {
    for (;;) {
      const int pulled = graph_->pull(i, scaled_.get());
      if (pulled <= 0) break;
      FramePtr frame(av_frame_alloc());
      if (!frame) throw std::bad_alloc();
      av_frame_move_ref(frame.get(), scaled_.get());
      if (!renditions_[i]->push(frame)) return;  // that encoder stopped: a failure is on its way
    }
  }
}

void LadderPipeline::warnShortestOnce() {
  if (warnedShortest_) return;
  warnedShortest_ = true;
  const int64_t limit = audio_->videoFrameLimit();
  events_->onWarning("The audio ended after " + std::to_string(limit) + " video frames (" +
                     std::to_string(av_q2d(config_.timeBase()) * double(limit)) +
                     " s); later frames are dropped (audio.shortest)");
}

void LadderPipeline::reportProgress() {
  // A few times a second is plenty for a progress bar, and cheap for the JS thread.
  const auto now = std::chrono::steady_clock::now();
  if (now - lastProgress_ < std::chrono::milliseconds(200)) return;
  lastProgress_ = now;
  events_->onProgress(framesIn_);
}

void LadderPipeline::runGraph() {
  ScopedLogTarget logTarget(events_, "[filter graph] ");
  try {
    size_t queuedAfter = 0;
    while (auto frame = input_.pop(&queuedAfter)) {
      if (failed_) break;
      if (!file_ && queuedAfter == size_t(config_.maxFramesInFlight)) events_->onDrain(queuedAfter);
      (*frame)->pts = framesIn_++;
      if (audio_) {
        audio_->onVideoProgress(framesIn_);
        if ((*frame)->pts >= audio_->videoFrameLimit()) {
          warnShortestOnce();
          if (file_) file_->stop();  // no need to decode what would be dropped
          continue;  // shortest: the audio has ended, so has the output
        }
      }
      graph_->push(frame->get());
      drainGraph();
      if (file_) reportProgress();
    }
    if (!failed_) {
      graph_->pushEnd();
      drainGraph();
    }
  } catch (const std::exception& error) {
    fail(error.what());
  }
  if (audio_) audio_->setVideoEnd(framesIn_);
  for (auto& rendition : renditions_) rendition->endInput();
  PipelineSummary summary;
  summary.frames = framesIn_;
  for (auto& rendition : renditions_) {
    rendition->join();
    summary.renditions.push_back(rendition->totals());
  }
  if (audio_) {
    audio_->join();
    summary.frames = failed_ ? std::min(framesIn_, audio_->videoFrameLimit()) : audio_->outputFrames();
    summary.audioSamples = audio_->outputSamples();
  }
  finished_ = true;
  events_->onFinished(std::move(summary), failed_);
}

}  // namespace abrcast
