// The NVIDIA driver, loaded once per process at run time through ffnvcodec's loader (so
// building needs no CUDA toolkit), and the one CUDA device every pipeline shares.
// That device is GPU 0's primary context: the context the CUDA runtime (cudaMalloc) uses,
// so a renderer's device frames are valid in it. abrcast retains it itself and hands it
// to FFmpeg, because FFmpeg's own primary-context option refuses a context the renderer
// has already started with other scheduling flags.
#pragma once

#include <string>

#include "ffmpeg.h"

// The loader's complaints go through av_log like FFmpeg's own, so the log router hands them to
// the pipeline that asked instead of printing them on stderr.
#define FFNV_LOG_FUNC(logctx, msg, ...) av_log(logctx, AV_LOG_ERROR, msg, __VA_ARGS__)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...) av_log(logctx, AV_LOG_DEBUG, msg, __VA_ARGS__)
#include <ffnvcodec/dynlink_loader.h>

namespace abrcast {

struct CudaDriver {
  CudaFunctions* cuda = nullptr;
  // Not in ffnvcodec's table; looked up in the library it loaded. Null on very old drivers.
  CUresult (*pointerGetAttribute)(void* data, int attribute, CUdeviceptr pointer) = nullptr;
  CUcontext context = nullptr;  // GPU 0's primary context, retained for the life of the process
  CUstream stream = nullptr;    // the context's default stream, as FFmpeg's filters use
  std::string gpuName;

  // "CUDA_ERROR_X (the driver's text)"
  std::string describe(CUresult result) const;
  // Throws FFmpegError "<what>: <describe(result)>" unless result is CUDA_SUCCESS.
  void check(CUresult result, const std::string& what) const;
};

// Loads the driver and retains the context on first use. Throws FFmpegError
// "no CUDA device (<why>)" where there is none, every time it is asked.
const CudaDriver& cudaDriver();

// A new reference to the process's one FFmpeg CUDA device, wrapping cudaDriver().context.
BufferRefPtr sharedCudaDevice();

// Makes the shared context current on this thread for the scope.
class CudaContextScope {
 public:
  explicit CudaContextScope(const CudaDriver& driver);
  ~CudaContextScope();
  CudaContextScope(const CudaContextScope&) = delete;
  CudaContextScope& operator=(const CudaContextScope&) = delete;

 private:
  const CudaDriver& driver_;
};

}  // namespace abrcast
