// One libavfilter graph per encoder instance:
//   CPU, write()'s packed RGB: RenditionScaler (SIMD conversion, parallel scales) -> buffer -> buffersink, per rendition
//     (its chroma is filtered as swscale's bilinear does, the decoder path's below as its area does); write()'s frames
//     are the caller's buffers, borrowed (PushedFrameSource): the scaler converts them first and lets go of them
//   CPU, a decoder's frames: buffer -> [crop/scale to the ladder's source size] -> scale (to BT.709 YUV 4:2:0 once) -> split=N -> scale per rendition -> buffersink x N
//   CUDA: buffer -> [crop/scale] -> scale (to YUV once) -> hwupload_cuda -> split=N -> scale_cuda per rendition -> buffersink x N
//   CUDA frames in (device-frame input, already YUV on the GPU): buffer -> split=N -> scale_cuda per rendition -> buffersink x N
// A graph is not thread-safe, so a single thread feeds and drains it.
#pragma once

#include <string>
#include <vector>

#include "config.h"
#include "ffmpeg.h"
#include "frame-source.h"
#include "rendition-scaler.h"

namespace abrcast {

class LadderFilterGraph {
 public:
  // `source`: the frames pushed in (write()'s packed RGB, or a decoder's native format); a source one
  // pixel larger than config's size (odd sizes) is cropped, any other difference scaled.
  // cudaDevice: null for the CPU graph; otherwise the shared CUDA device (referenced, not taken).
  LadderFilterGraph(const EncoderConfig& config, const VideoFrameFormat& source, AVBufferRef* cudaDevice);

  // Takes the frame's reference.
  void push(AVFrame* frame);
  // Signals the end of input so the sinks can drain.
  void pushEnd();
  // Next frame of rendition `index`: 1 when one was written to `frame`, 0 when none is ready, -1 at the end.
  int pull(size_t index, AVFrame* frame);

  AVFilterContext* sink(size_t index) const { return sinks_[index]; }
  size_t renditionCount() const { return sinks_.size(); }

 private:
  void connectScaledSources(const EncoderConfig& config);

  FilterGraphPtr graph_;
  AVFilterContext* source_ = nullptr;
  std::vector<AVFilterContext*> sinks_;
  // write()'s packed RGB: converted and scaled outside libavfilter, one graph source per rendition.
  std::unique_ptr<RenditionScaler> scaler_;
  std::vector<AVFilterContext*> scaledSources_;
  std::vector<std::string> scaledNames_;
  std::vector<FramePtr> scaled_;
};

}  // namespace abrcast
