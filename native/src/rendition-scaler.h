// The CPU path's picture work for write()'s packed RGB frames, instead of libavfilter's serial chain:
// RGB -> BT.709 limited YUV 4:2:0 once (yuv-convert.h, in row bands; write() usually did it already,
// see pushed-frame-source.h), then every rendition's scale
// (swscale's SIMD yuv420p scalers, with the ladder's flags), the bands and the renditions each run
// in parallel on a few helper threads while the calling thread works too.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "ffmpeg.h"

struct SwsContext;

namespace abrcast {

// Runs a batch of tasks on `helpers` threads plus the caller; run() returns when all are done.
// How many helpers and bands: the encoder's thread plan (config.threads, thread-budget.h).
class ParallelTasks {
 public:
  explicit ParallelTasks(size_t helpers);
  ~ParallelTasks();
  ParallelTasks(const ParallelTasks&) = delete;
  ParallelTasks& operator=(const ParallelTasks&) = delete;

  // Throws the first task's exception, after every task has finished.
  void run(const std::vector<std::function<void()>>& tasks);

 private:
  void stop();  // stops and joins the helpers
  void helperLoop();
  void work(std::unique_lock<std::mutex>& lock);  // with mutex_ held: takes tasks until none is left

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::vector<std::function<void()>>* tasks_ = nullptr;
  size_t next_ = 0;
  size_t finished_ = 0;
  size_t generation_ = 0;
  bool stopping_ = false;
  std::string error_;
  std::vector<std::thread> threads_;
};

struct SwsContextDeleter {
  void operator()(SwsContext* context) const;
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

class RenditionScaler {
 public:
  // Whether this scaler takes frames of `format` at `width` x `height` (write()'s frames, or one pixel
  // larger for odd sources, cropped) for config's ladder.
  static bool accepts(const EncoderConfig& config, AVPixelFormat format, int width, int height);

  explicit RenditionScaler(const EncoderConfig& config);

  // One yuv420p frame per rendition in `out` (reused), each with the input's pts; a rendition at the
  // ladder's size shares the converted frame. `input`: packed RGB, or the ladder's YUV already
  // (ladder-yuv-frame.h, converted by PushedFrameSource), which is only scaled.
  void process(const AVFrame* input, std::vector<FramePtr>& out);

 private:
  FramePtr pooledFrame(size_t pool, int width, int height);
  void convert(const AVFrame* input, AVFrame* yuv);        // RGB -> YUV, in row bands
  void scale(const AVFrame* yuv, std::vector<FramePtr>& out);  // every rendition, stage by stage

  const EncoderConfig config_;  // a copy: the graph's caller may pass a temporary
  std::vector<BufferPoolPtr> pools_;      // [0]: the converted frame; [1 + i]: rendition i
  std::vector<SwsContextPtr> scalers_;    // null where a rendition has the ladder's size
  std::vector<int> sources_;              // what rendition i is scaled from: -1 the converted frame, else a rendition
  std::vector<std::vector<size_t>> stages_;  // renditions to scale, in stages: each reads only earlier ones
  ParallelTasks tasks_;
  std::vector<std::function<void()>> batch_;
};

}  // namespace abrcast
