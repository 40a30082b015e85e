// The CPU path's picture work for write()'s packed RGB frames, instead of libavfilter's serial chain:
// RGB -> BT.709 limited YUV 4:2:0 once (yuv-convert.h, in row bands), then every rendition's scale
// (lanczos at 2:1 and 3:2: LanczosPlaneScaler, in bands of rows; else swscale's SIMD yuv420p
// scalers, with the ladder's flags), the bands and the renditions each run in parallel on a few
// helper threads while the calling thread works too. The RGB frame is usually
// the caller's own buffer (pushed-frame-source.h): it is let go of as soon as it is converted.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config.h"
#include "ffmpeg.h"
#include "lanczos-plane-scaler.h"

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
  // ladder's size shares the converted frame. Takes `input`'s reference (packed RGB) and drops it
  // once converted, before scaling: a borrowed frame goes back to its caller then.
  void process(AVFrame* input, std::vector<FramePtr>& out);

 private:
  FramePtr pooledFrame(size_t pool, int width, int height);
  void convert(const AVFrame* input, AVFrame* yuv);        // RGB -> YUV, in row bands
  void scale(const AVFrame* yuv, std::vector<FramePtr>& out);  // every rendition, stage by stage

  // A band of rows of one plane of a rendition LanczosPlaneScaler scales, with its own scratch.
  struct LanczosBand {
    size_t rendition;
    int plane;
    int top;
    int bottom;
    std::vector<int16_t> scratch;
    const AVFrame* from = nullptr;  // this frame's source and rendition, set as each frame is scaled
    AVFrame* to = nullptr;
  };
  void addLanczos(size_t rendition, int srcW, int srcH);

  const EncoderConfig config_;  // a copy: the graph's caller may pass a temporary
  std::vector<BufferPoolPtr> pools_;      // [0]: the converted frame; [1 + i]: rendition i
  std::vector<SwsContextPtr> scalers_;    // swscale's, null where a rendition has the ladder's size or is in lanczos_
  std::vector<std::vector<std::unique_ptr<LanczosPlaneScaler>>> lanczos_;  // per rendition: Y, U, V, or none
  std::vector<LanczosBand> lanczosBands_;
  std::vector<int> sources_;              // what rendition i is scaled from: -1 the converted frame, else a rendition
  std::vector<std::vector<size_t>> stages_;  // renditions to scale, in stages: each reads only earlier ones
  ParallelTasks tasks_;
  std::vector<std::function<void()>> batch_;
};

}  // namespace abrcast
