// One libavfilter graph per encoder instance:
//   CPU:  buffer -> scale (RGB->YUV once, at source size) -> split=N -> scale per rendition -> buffersink x N
//   CUDA: buffer -> scale (RGB->YUV once) -> hwupload_cuda -> split=N -> scale_cuda per rendition -> buffersink x N
// A graph is not thread-safe, so a single thread feeds and drains it.
#pragma once

#include <vector>

#include "config.h"
#include "ffmpeg.h"

namespace abrcast {

class LadderFilterGraph {
 public:
  // cudaDevice: null for the CPU graph; otherwise the shared CUDA device (referenced, not taken).
  LadderFilterGraph(const EncoderConfig& config, AVBufferRef* cudaDevice);

  // Takes the frame's reference.
  void push(AVFrame* frame);
  // Signals the end of input so the sinks can drain.
  void pushEnd();
  // Next frame of rendition `index`: 1 when one was written to `frame`, 0 when none is ready, -1 at the end.
  int pull(size_t index, AVFrame* frame);

  AVFilterContext* sink(size_t index) const { return sinks_[index]; }
  size_t renditionCount() const { return sinks_.size(); }

 private:
  FilterGraphPtr graph_;
  AVFilterContext* source_ = nullptr;
  std::vector<AVFilterContext*> sinks_;
};

}  // namespace abrcast
