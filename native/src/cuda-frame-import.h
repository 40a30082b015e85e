// Frames a renderer already holds in CUDA memory ({ cudaDevicePtr, pitch } from JS).
// GPU path: one kernel turns the RGB frame into a pooled CUDA yuv420p frame, which goes
// straight to split/scale_cuda/NVENC, so the picture never leaves the GPU.
// CPU path (x264, e.g. `auto` on a GPU without NVENC): one device-to-host copy into
// the pooled AVFrame that write() would have filled from a Buffer.
// The pointer must be device memory of the primary context of GPU 0, where the CUDA
// runtime (cudaMalloc) allocates; it is checked first, so a bad pointer is an error, not a
// GPU fault that would poison the context for every encoder in the process.
#pragma once

#include <cstdint>

#include "cuda-driver.h"
#include "ffmpeg.h"

namespace abrcast {

class CudaFrameImporter {
 public:
  // rgbFormat: rgb24, rgba or bgra. Throws FFmpegError when there is no CUDA device.
  CudaFrameImporter(int width, int height, AVPixelFormat rgbFormat);
  ~CudaFrameImporter();
  CudaFrameImporter(const CudaFrameImporter&) = delete;
  CudaFrameImporter& operator=(const CudaFrameImporter&) = delete;

  // The CUDA yuv420p frames convert() returns come from this pool; the filter graph's source takes it.
  AVBufferRef* framesContext();
  AVBufferRef* device() const { return device_.get(); }

  // Converts on the GPU; returns once the kernel is done, so the caller may reuse its memory.
  FramePtr convert(uint64_t devicePtr, size_t pitch);
  // Copies the RGB rows into host memory (`destination`, `destinationLinesize` bytes a row).
  void download(uint64_t devicePtr, size_t pitch, uint8_t* destination, int destinationLinesize);

 private:
  void checkPointer(uint64_t devicePtr, size_t pitch) const;

  int width_;
  int height_;
  AVPixelFormat rgbFormat_;
  int bytesPerPixel_;
  BufferRefPtr device_;
  BufferRefPtr frames_;  // made on first convert(): the CPU path never needs it
  const CudaDriver* driver_;
  CUfunction kernel_ = nullptr;  // the RGB-to-YUV kernel, looked up on first convert()
};

// For tests and examples without CUDA bindings of their own: copies `rows` rows of `rowBytes`
// into a new device allocation of `pitch` bytes a row (primary context of GPU 0), and frees it.
uint64_t uploadToCudaMemory(const uint8_t* data, size_t rowBytes, size_t rows, size_t pitch);
void freeCudaMemory(uint64_t devicePtr);

}  // namespace abrcast
