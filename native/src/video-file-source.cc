#include "video-file-source.h"

#include <chrono>
#include <cstdlib>

#include "log-router.h"
#include "thread-start.h"

namespace abrcast {

namespace {

std::string describeFormat(int width, int height, int format) {
  const char* name = av_get_pix_fmt_name(AVPixelFormat(format));
  return std::to_string(width) + "x" + std::to_string(height) + " " + (name ? name : "unknown");
}

}  // namespace

VideoFileSource::VideoFileSource(const EncoderConfig& config, PipelineEvents* events, const StopToken* cancelled)
    : config_(config),
      events_(events),
      decoder_(std::make_unique<StreamDecoder>(config.input.source, AVMEDIA_TYPE_VIDEO, &stop_, cancelled,
                                               config.ioTimeoutSeconds, config.threads.decoderThreads)) {
  const AVFrame& first = decoder_->firstFrame();
  frameFormat_ = VideoFrameFormat{first.width, first.height, AVPixelFormat(first.format), first.colorspace, first.color_range};
}

VideoFileSource::~VideoFileSource() {
  stop();
  join();
}

void VideoFileSource::start(Deliver deliver, FailureHandler onFailure, EndHandler onEnd) {
  // Assigning over a running std::thread would terminate the process.
  if (worker_.joinable()) throw FFmpegError("The input " + config_.input.source + " is already being read");
  deliver_ = std::move(deliver);
  onFailure_ = std::move(onFailure);
  onEnd_ = std::move(onEnd);
  worker_ = startThread("the decoder thread of input " + config_.input.source, [this] { run(); });
}

void VideoFileSource::stop() {
  {
    std::lock_guard<std::mutex> lock(stopMutex_);
    stop_.requestStop();
  }
  stopChanged_.notify_all();
}

void VideoFileSource::join() {
  if (worker_.joinable()) worker_.join();
}

// Live: sleeps until `tick` is due on the wall clock; false when stopped meanwhile.
bool VideoFileSource::waitUntilDue(int64_t tick) {
  using namespace std::chrono;
  const auto now = steady_clock::now();
  if (!clockStarted_) {
    clockStarted_ = true;
    clockStart_ = now;
  }
  const double seconds = double(tick) * av_q2d(config_.timeBase());
  const auto due = clockStart_ + duration_cast<steady_clock::duration>(duration<double>(seconds));
  std::unique_lock<std::mutex> lock(stopMutex_);
  stopChanged_.wait_until(lock, due, [this] { return stop_.stopRequested(); });
  return !stop_.stopRequested();
}

bool VideoFileSource::emit(FramePtr& frame) {
  if (config_.input.live && !waitUntilDue(nextTick_)) return false;
  if (stop_.stopRequested()) return false;
  if (!deliver_(frame)) return false;
  ++nextTick_;
  return true;
}

void VideoFileSource::run() {
  ScopedLogTarget logTarget(events_, "[input] ");
  try {
    const VideoFrameFormat& expected = frameFormat_;
    const AVRational sourceBase = decoder_->timeBase();
    const AVRational tickBase = config_.timeBase();
    const int64_t maxGapTicks = int64_t(kMaxGapSeconds / av_q2d(tickBase));
    int64_t origin = AV_NOPTS_VALUE;
    int64_t dropped = 0;
    int64_t repeated = 0;
    bool warnedJump = false;
    FramePtr decoded = allocFrame();
    FramePtr previous;

    while (!stop_.stopRequested() && decoder_->next(decoded.get())) {
      if (decoded->width != expected.width || decoded->height != expected.height || decoded->format != expected.pixelFormat) {
        throw FFmpegError("The video of " + decoder_->source() + " changed from " +
                          describeFormat(expected.width, expected.height, expected.pixelFormat) + " to " +
                          describeFormat(decoded->width, decoded->height, decoded->format) +
                          " mid-stream, which is not supported");
      }
      int64_t tick = nextTick_;
      const int64_t timestamp = decoded->best_effort_timestamp;
      if (timestamp != AV_NOPTS_VALUE) {
        if (origin == AV_NOPTS_VALUE) origin = timestamp;
        tick = av_rescale_q_rnd(timestamp - origin, sourceBase, tickBase,
                                AVRounding(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
        if (std::llabs(tick - nextTick_) > maxGapTicks) {
          if (!warnedJump) {
            warnedJump = true;
            events_->onWarning("The timestamps of " + decoder_->source() + " jump by " +
                               std::to_string(double(tick - nextTick_) * av_q2d(tickBase)) +
                               " s; the video continues without the gap");
          }
          origin = timestamp - av_rescale_q(nextTick_, tickBase, sourceBase);
          tick = nextTick_;
        }
      }
      if (tick < nextTick_) {
        ++dropped;  // a second frame within one tick: the output rate is lower than the source's
        continue;
      }
      // Ticks the source skipped show the frame before (or, at the start, this one).
      while (nextTick_ < tick) {
        FramePtr copy(av_frame_clone(previous ? previous.get() : decoded.get()));
        if (!copy) throw std::bad_alloc();
        if (!emit(copy)) break;
        ++repeated;
      }
      if (stop_.stopRequested() || nextTick_ < tick) break;
      FramePtr current(av_frame_clone(decoded.get()));
      if (!current) throw std::bad_alloc();
      previous = std::move(decoded);
      decoded = allocFrame();
      if (!emit(current)) break;
    }
    if (dropped > 0 || repeated > 0) {
      events_->onWarning("Converted " + decoder_->source() + " to a constant " + std::to_string(av_q2d(config_.frameRate)) +
                         " fps: " + std::to_string(dropped) + " frames dropped, " + std::to_string(repeated) +
                         " repeated");
    }
  } catch (const std::exception& error) {
    onFailure_(error.what());
  }
  onEnd_();
}

}  // namespace abrcast
