// Frames the caller pushes, packed RGB (config.inputFormat, config's size), made into the AVFrames
// the filter graph takes: from host memory, borrowed (the frame points at the caller's pixels,
// which the graph thread converts to the ladder's YUV in parallel row bands, then returns), or
// copied into a pooled RGB frame for the GPU graph; from CUDA device memory (cudaFrames), converted
// on the GPU into a CUDA frame when the graph runs there, or else copied into the same pooled RGB
// host frame (cuda-frame-import.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cuda-frame-import.h"
#include "ffmpeg.h"
#include "frame-source.h"

namespace abrcast {

// A caller's host frame, read in place: `pixels` (`stride` bytes a row) must stay valid until this
// is destroyed, which calls `onReturn` once. It lives as long as the frame made from it: the graph
// thread drops that as soon as it has converted it; a refused, discarded or failed frame drops it
// wherever that happens (the JS thread included). The binding keeps the JS buffer referenced until
// then (ladder-encoder-binding.cc).
class BorrowedPixels {
 public:
  BorrowedPixels(const uint8_t* pixels, size_t stride, std::function<void()> onReturn)
      : pixels_(pixels), stride_(stride), onReturn_(std::move(onReturn)) {}
  ~BorrowedPixels() {
    if (onReturn_) onReturn_();
  }
  BorrowedPixels(const BorrowedPixels&) = delete;
  BorrowedPixels& operator=(const BorrowedPixels&) = delete;

  const uint8_t* pixels() const { return pixels_; }
  size_t stride() const { return stride_; }

 private:
  const uint8_t* pixels_;
  size_t stride_;
  std::function<void()> onReturn_;
};

class PushedFrameSource : public FrameSource {
 public:
  // `deviceFrames`: frames come as CUDA device pointers; `onGpu`: the graph runs on the GPU.
  // `rowAlignment`: of the pooled host frames' rows (64 for SIMD; 1 keeps the caller's packing).
  // Takes no I/O (no CUDA yet), so it may run on the JS thread.
  PushedFrameSource(int width, int height, AVPixelFormat format, bool deviceFrames, bool onGpu, int rowAlignment);

  // Device frames: loads CUDA and checks there is a device (FFmpegError otherwise). Before frameFormat() and fromDevice().
  void openDevice();
  bool deviceOpen() const { return importer_ != nullptr; }
  // Whether fromHost() takes frames: not when device frames are converted on the GPU.
  bool takesHostFrames() const { return !deviceFrames_; }

  VideoFrameFormat frameFormat() override;

  // A frame of the caller's host pixels. The CPU graph reads them in place: the frame owns
  // `pixels`, so they are returned when the frame's last reference goes (the graph thread's
  // conversion drops it). The GPU graph gets a pooled copy, and `pixels` are returned at once.
  FramePtr fromHost(std::unique_ptr<BorrowedPixels> pixels);
  // A frame from CUDA device memory (`pitch` bytes a row); openDevice() first.
  FramePtr fromDevice(uint64_t devicePtr, size_t pitch);

 private:
  FramePtr pooledFrame();
  void describe(AVFrame* frame) const;

  const int width_;
  const int height_;
  const AVPixelFormat format_;
  const bool deviceFrames_;
  const bool onGpu_;
  int linesize_ = 0;
  BufferPoolPtr pool_;  // pooled RGB host frames: copies for the GPU graph, device frames downloaded for x264
  std::unique_ptr<CudaFrameImporter> importer_;  // device frames only
};

}  // namespace abrcast
