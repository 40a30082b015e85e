// Frames the caller pushes, packed RGB (config.inputFormat, config's size), made into the AVFrames
// the filter graph takes: from host memory, converted straight from the caller's pixels into a
// pooled frame of the ladder's YUV when the graph runs on the CPU (no copy of the RGB frame: the
// conversion reads it once, while write() runs), else copied into a pooled RGB frame; from CUDA
// device memory (cudaFrames), converted on the GPU into a CUDA frame when the graph runs there, or
// else copied into the same pooled RGB host frame (cuda-frame-import.h).
#pragma once

#include <cstdint>
#include <memory>

#include "cuda-frame-import.h"
#include "ffmpeg.h"
#include "frame-source.h"

namespace abrcast {

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
  bool takesHostFrames() const { return pool_ != nullptr; }

  VideoFrameFormat frameFormat() override;

  // Host pixels (`stride` bytes a row) into a pooled frame: converted to the ladder's YUV on the CPU
  // path, else copied. Reads `pixels` only while it runs.
  FramePtr fromHost(const uint8_t* pixels, size_t stride);
  // A frame from CUDA device memory (`pitch` bytes a row); openDevice() first.
  FramePtr fromDevice(uint64_t devicePtr, size_t pitch);

 private:
  FramePtr pooledFrame();

  const int width_;
  const int height_;
  const AVPixelFormat format_;
  const bool deviceFrames_;
  const bool onGpu_;
  // Host RGB frames for the CPU graph: converted to the ladder's YUV in fromHost().
  const bool convertsToYuv_;
  int linesize_ = 0;
  BufferPoolPtr pool_;  // host frames (RGB, or the ladder's YUV); none when device frames are converted on the GPU
  std::unique_ptr<CudaFrameImporter> importer_;  // device frames only
};

}  // namespace abrcast
