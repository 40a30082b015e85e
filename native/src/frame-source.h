// Where the ladder's frames come from, as the filter graph's source sees them: a file or stream
// decoded on a thread (VideoFileSource), or frames pushed by the caller from host or CUDA memory
// (PushedFrameSource: write(), writeCuda() and scaleLadderFrame()). The pipeline and the preview
// binding build their graph from frameFormat() alike.
#pragma once

#include "ffmpeg.h"

namespace abrcast {

// What the filter graph's source needs to know about the frames.
struct VideoFrameFormat {
  int width = 0;
  int height = 0;
  AVPixelFormat pixelFormat = AV_PIX_FMT_NONE;
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;
  AVColorRange colorRange = AVCOL_RANGE_UNSPECIFIED;
  // AV_PIX_FMT_CUDA sources: the pool their frames come from (referenced, not taken).
  AVBufferRef* hwFrames = nullptr;
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // The format of every frame it gives; fixed once the source is open.
  virtual VideoFrameFormat frameFormat() = 0;
};

}  // namespace abrcast
