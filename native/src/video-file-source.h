// The thread that feeds a file's video into the ladder: it decodes (through
// StreamDecoder), turns the source's timestamps into one frame per tick of
// the output rate, and hands each frame to `deliver` in its native pixel
// format. With `live`, frame n is handed over n ticks after the first (wall
// clock), so a file streams as if it were live; otherwise as fast as the
// pipeline takes frames (deliver blocks while the pipeline is full).
//
// Constant frame rate: a frame whose timestamp rounds to tick n is frame n.
// Ticks with no frame repeat the previous one; a second frame on a tick is
// dropped. The first frame's timestamp is tick 0, so segment cuts (every
// framesPerSegment ticks) and the audio (which starts at 0) line up. A jump of
// more than kMaxGapSeconds either way (a broken or wrapped timestamp) restarts
// the count at the current tick instead of filling or dropping for that long.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config.h"
#include "ffmpeg.h"
#include "frame-source.h"
#include "pipeline-events.h"
#include "stop-token.h"
#include "stream-decoder.h"

namespace abrcast {

class VideoFileSource : public FrameSource {
 public:
  // False when the pipeline takes no more frames.
  using Deliver = std::function<bool(FramePtr&)>;
  using FailureHandler = std::function<void(const std::string&)>;
  using EndHandler = std::function<void()>;

  static constexpr double kMaxGapSeconds = 10.0;

  // Opens and decodes the first frame (throws FFmpegError naming the source); `cancelled`
  // (may be null) interrupts that open from another thread.
  VideoFileSource(const EncoderConfig& config, PipelineEvents* events, const StopToken* cancelled = nullptr);
  ~VideoFileSource();
  VideoFileSource(const VideoFileSource&) = delete;
  VideoFileSource& operator=(const VideoFileSource&) = delete;

  VideoFrameFormat frameFormat() override { return frameFormat_; }

  // Starts the thread. `onEnd` follows the last delivered frame, also after stop() or a failure.
  void start(Deliver deliver, FailureHandler onFailure, EndHandler onEnd);
  // Stop reading: the thread ends after the frame in hand (a network read is interrupted).
  void stop();
  void join();

 private:
  void run();
  bool emit(FramePtr& frame);
  bool waitUntilDue(int64_t tick);

  const EncoderConfig& config_;
  PipelineEvents* events_;
  StopToken stop_;
  std::unique_ptr<StreamDecoder> decoder_;
  VideoFrameFormat frameFormat_;  // of the first decoded frame; later frames must match
  Deliver deliver_;
  FailureHandler onFailure_;
  EndHandler onEnd_;

  std::mutex stopMutex_;
  std::condition_variable stopChanged_;
  bool clockStarted_ = false;
  std::chrono::steady_clock::time_point clockStart_;
  int64_t nextTick_ = 0;
  std::thread worker_;
};

}  // namespace abrcast
