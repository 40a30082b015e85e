#include "cuda-frame-import.h"

#include <cstdio>
#include <mutex>

#include "cuda-driver.h"
#include "rgb-to-yuv420-ptx.h"

namespace abrcast {

namespace {

// cuPointerGetAttribute's attributes and answers (values from cuda.h).
constexpr int kPointerContext = 1;
constexpr int kPointerMemoryType = 2;
constexpr int kPointerRangeStart = 11;
constexpr int kPointerRangeSize = 12;
constexpr unsigned kMemoryTypeDevice = 2;
constexpr unsigned kMemoryTypeUnified = 4;

constexpr unsigned kBlockWidth = 32;
constexpr unsigned kBlockHeight = 8;

std::string hexPointer(uint64_t pointer) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(pointer));
  return text;
}

// One end of a pitched copy: host or device rows, `pitch` bytes apart.
struct Rows {
  CUmemorytype type;
  void* host;
  CUdeviceptr device;
  size_t pitch;
};
Rows hostRows(const void* host, size_t pitch) { return Rows{CU_MEMORYTYPE_HOST, const_cast<void*>(host), 0, pitch}; }
Rows deviceRows(CUdeviceptr device, size_t pitch) { return Rows{CU_MEMORYTYPE_DEVICE, nullptr, device, pitch}; }

CUDA_MEMCPY2D rowCopy(const Rows& from, const Rows& to, size_t widthBytes, size_t rows) {
  CUDA_MEMCPY2D copy = {};
  copy.srcMemoryType = from.type;
  copy.srcHost = from.host;
  copy.srcDevice = from.device;
  copy.srcPitch = from.pitch;
  copy.dstMemoryType = to.type;
  copy.dstHost = to.host;
  copy.dstDevice = to.device;
  copy.dstPitch = to.pitch;
  copy.WidthInBytes = widthBytes;
  copy.Height = rows;
  return copy;
}

std::mutex kernelMutex;
CUfunction rgbToYuv420 = nullptr;  // in the shared context, which lives as long as the process

// The kernel's module is loaded on first use only: the CPU path copies and never needs it.
CUfunction loadKernel(const CudaDriver& driver) {
  std::lock_guard<std::mutex> lock(kernelMutex);
  if (rgbToYuv420) return rgbToYuv420;
  CudaContextScope scope(driver);
  CUmodule module = nullptr;
  driver.check(driver.cuda->cuModuleLoadData(&module, kRgbToYuv420Ptx),
               "Cannot load the RGB-to-YUV CUDA kernel (the driver compiles its PTX)");
  driver.check(driver.cuda->cuModuleGetFunction(&rgbToYuv420, module, "abrcast_rgb_to_yuv420p"),
               "Cannot find the RGB-to-YUV CUDA kernel");
  return rgbToYuv420;
}

BufferRefPtr deviceForFrames() {
  try {
    return sharedCudaDevice();
  } catch (const FFmpegError& error) {
    throw FFmpegError(std::string("Cannot take CUDA device frames: ") + error.what());
  }
}

}  // namespace

CudaFrameImporter::CudaFrameImporter(int width, int height, AVPixelFormat rgbFormat)
    : width_(width),
      height_(height),
      rgbFormat_(rgbFormat),
      bytesPerPixel_(bytesPerPixel(rgbFormat)),
      device_(deviceForFrames()),
      driver_(&cudaDriver()) {}

CudaFrameImporter::~CudaFrameImporter() = default;

AVBufferRef* CudaFrameImporter::framesContext() {
  if (!frames_) {
    frames_.reset(av_hwframe_ctx_alloc(device_.get()));
    if (!frames_) throw std::bad_alloc();
    auto* frames = reinterpret_cast<AVHWFramesContext*>(frames_->data);
    frames->format = AV_PIX_FMT_CUDA;
    frames->sw_format = AV_PIX_FMT_YUV420P;  // what the CPU path uploads, so scale_cuda sees the same
    frames->width = width_;
    frames->height = height_;
    check(av_hwframe_ctx_init(frames_.get()), "Cannot create the pool of CUDA frames for device-frame input");
  }
  return frames_.get();
}

// Runs with the context current.
void CudaFrameImporter::checkPointer(uint64_t devicePtr, size_t pitch) const {
  const std::string named = "cudaDevicePtr " + hexPointer(devicePtr);
  // Without the attribute query (a very old driver), the pointer is trusted as documented.
  if (!driver_->pointerGetAttribute) return;
  unsigned memoryType = 0;
  const CUresult typed = driver_->pointerGetAttribute(&memoryType, kPointerMemoryType, devicePtr);
  if (typed != CUDA_SUCCESS) {
    throw FFmpegError("Expected CUDA device memory for " + named + " but CUDA does not know it: " +
                      driver_->describe(typed));
  }
  if (memoryType != kMemoryTypeDevice && memoryType != kMemoryTypeUnified) {
    throw FFmpegError("Expected CUDA device memory for " + named + " but it is host memory");
  }
  CUcontext owner = nullptr;
  if (driver_->pointerGetAttribute(&owner, kPointerContext, devicePtr) == CUDA_SUCCESS && owner &&
      owner != driver_->context) {
    throw FFmpegError("Expected " + named +
                      " in the primary CUDA context of GPU 0 (where cudaMalloc allocates) but it belongs to another context");
  }
  CUdeviceptr start = 0;
  size_t size = 0;
  if (driver_->pointerGetAttribute(&start, kPointerRangeStart, devicePtr) == CUDA_SUCCESS &&
      driver_->pointerGetAttribute(&size, kPointerRangeSize, devicePtr) == CUDA_SUCCESS && size > 0) {
    const uint64_t needed = uint64_t(pitch) * uint64_t(height_ - 1) + uint64_t(width_) * uint64_t(bytesPerPixel_);
    const uint64_t available = uint64_t(start) + uint64_t(size) - devicePtr;
    if (needed > available) {
      throw FFmpegError("Expected " + std::to_string(needed) + " bytes of device memory at " + named + " (pitch " +
                        std::to_string(pitch) + " x " + std::to_string(height_) + " rows) but its allocation has " +
                        std::to_string(available));
    }
  }
}

FramePtr CudaFrameImporter::convert(uint64_t devicePtr, size_t pitch) {
  // Looked up once per importer, so the per-frame path takes no lock.
  if (!kernel_) kernel_ = loadKernel(*driver_);
  CudaContextScope scope(*driver_);
  checkPointer(devicePtr, pitch);
  FramePtr frame = allocFrame();
  check(av_hwframe_get_buffer(framesContext(), frame.get(), 0), "Cannot take a CUDA frame from the pool");
  frame->color_range = AVCOL_RANGE_MPEG;
  frame->colorspace = AVCOL_SPC_BT709;
  frame->color_primaries = AVCOL_PRI_BT709;
  frame->color_trc = AVCOL_TRC_BT709;

  CUdeviceptr rgb = devicePtr;
  long long rgbPitch = static_cast<long long>(pitch);
  int bytesPerPixel = bytesPerPixel_;
  // Byte index of each channel in a pixel: rgb24/rgba start with red, bgra with blue.
  int red = rgbFormat_ == AV_PIX_FMT_BGRA ? 2 : 0, green = 1, blue = rgbFormat_ == AV_PIX_FMT_BGRA ? 0 : 2;
  int width = width_, height = height_;
  CUdeviceptr y = reinterpret_cast<CUdeviceptr>(frame->data[0]);
  CUdeviceptr u = reinterpret_cast<CUdeviceptr>(frame->data[1]);
  CUdeviceptr v = reinterpret_cast<CUdeviceptr>(frame->data[2]);
  long long yPitch = frame->linesize[0], uPitch = frame->linesize[1], vPitch = frame->linesize[2];
  // As the PTX declares them (test/encoder/cuda-frames.test.ts reads it): .u64 and .u32.
  static_assert(sizeof(CUdeviceptr) == 8 && sizeof(long long) == 8 && sizeof(int) == 4, "kernel parameter sizes");
  void* parameters[] = {&rgb, &rgbPitch, &bytesPerPixel, &red, &green, &blue, &width, &height,
                        &y,   &yPitch,   &u,             &uPitch, &v,  &vPitch};

  const unsigned chromaWidth = unsigned(width_ / 2), chromaHeight = unsigned(height_ / 2);
  driver_->check(driver_->cuda->cuLaunchKernel(kernel_, (chromaWidth + kBlockWidth - 1) / kBlockWidth,
                                               (chromaHeight + kBlockHeight - 1) / kBlockHeight, 1, kBlockWidth,
                                               kBlockHeight, 1, 0, driver_->stream, parameters, nullptr),
                 "Cannot run the RGB-to-YUV CUDA kernel");
  // The renderer may overwrite its frame once write() returns.
  driver_->check(driver_->cuda->cuStreamSynchronize(driver_->stream), "The RGB-to-YUV CUDA kernel failed");
  return frame;
}

void CudaFrameImporter::download(uint64_t devicePtr, size_t pitch, uint8_t* destination, int destinationLinesize) {
  CudaContextScope scope(*driver_);
  checkPointer(devicePtr, pitch);
  const CUDA_MEMCPY2D copy = rowCopy(deviceRows(devicePtr, pitch), hostRows(destination, size_t(destinationLinesize)),
                                     size_t(width_) * size_t(bytesPerPixel_), size_t(height_));
  driver_->check(driver_->cuda->cuMemcpy2D(&copy), "Cannot copy the CUDA frame at " + hexPointer(devicePtr) + " to host memory");
}

uint64_t uploadToCudaMemory(const uint8_t* data, size_t rowBytes, size_t rows, size_t pitch) {
  const CudaDriver& driver = cudaDriver();
  CudaContextScope scope(driver);
  CUdeviceptr memory = 0;
  driver.check(driver.cuda->cuMemAlloc(&memory, pitch * rows), "Cannot allocate " + std::to_string(pitch * rows) + " bytes of CUDA memory");
  const CUDA_MEMCPY2D copy = rowCopy(hostRows(data, rowBytes), deviceRows(memory, pitch), rowBytes, rows);
  const CUresult copied = driver.cuda->cuMemcpy2D(&copy);
  if (copied != CUDA_SUCCESS) {
    driver.cuda->cuMemFree(memory);
    driver.check(copied, "Cannot copy into CUDA memory");
  }
  return memory;
}

void freeCudaMemory(uint64_t devicePtr) {
  const CudaDriver& driver = cudaDriver();
  CudaContextScope scope(driver);
  driver.check(driver.cuda->cuMemFree(devicePtr), "Cannot free the CUDA memory at " + hexPointer(devicePtr));
}

}  // namespace abrcast
