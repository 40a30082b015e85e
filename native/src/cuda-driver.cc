#include "cuda-driver.h"

extern "C" {
#include <libavutil/hwcontext_cuda.h>
}

#include <memory>
#include <mutex>

// The driver library cuda_load_functions opens (dynlink_loader.h #undefs its own CUDA_LIBNAME).
#ifdef _WIN32
#define ABRCAST_CUDA_LIBRARY "nvcuda.dll"
#else
#define ABRCAST_CUDA_LIBRARY "libcuda.so.1"
#endif

namespace abrcast {

namespace {

std::mutex driverMutex;
CudaDriver* loadedDriver = nullptr;  // never unloaded: pipelines may run until the process exits
std::string loadFailure;             // why there is no driver, once found out
BufferRefPtr sharedDevice;           // pipelines hold av_buffer_ref copies

// What the driver says about a failed call, or a fallback when it cannot say.
std::string resultText(CudaFunctions* cuda, CUresult result) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (!cuda || cuda->cuGetErrorName(result, &name) != CUDA_SUCCESS || !name) name = "CUDA error";
  if (!cuda || cuda->cuGetErrorString(result, &text) != CUDA_SUCCESS || !text) text = "no description";
  return std::string(name) + " (" + text + ")";
}

// Returns the reason there is no usable device, or "" once `driver` is complete.
std::string load(CudaDriver& driver) {
  if (cuda_load_functions(&driver.cuda, nullptr) < 0 || !driver.cuda) {
    // ffnvcodec's own loader macros: dlopen on Linux, LoadLibrary on Windows (nvcuda.dll).
    FFNV_LIB_HANDLE library = FFNV_LOAD_FUNC(ABRCAST_CUDA_LIBRARY);
    if (!library) return "the NVIDIA driver library " ABRCAST_CUDA_LIBRARY " is not installed";
    FFNV_FREE_FUNC(library);
    return "the NVIDIA driver's " ABRCAST_CUDA_LIBRARY " lacks functions abrcast needs: the driver is too old";
  }
  const auto fail = [&](CUresult result) {
    return "the NVIDIA driver is installed but no usable GPU was found: " + resultText(driver.cuda, result);
  };
  CUresult result = driver.cuda->cuInit(0);
  if (result != CUDA_SUCCESS) return fail(result);
  CUdevice device = 0;
  result = driver.cuda->cuDeviceGet(&device, 0);
  if (result != CUDA_SUCCESS) return fail(result);
  // Whatever flags the renderer started it with: only creating a context would choose them.
  result = driver.cuda->cuDevicePrimaryCtxRetain(&driver.context, device);
  if (result != CUDA_SUCCESS) return fail(result);
  char name[256] = {0};
  driver.gpuName = driver.cuda->cuDeviceGetName(name, sizeof name - 1, device) == CUDA_SUCCESS ? name : "NVIDIA GPU";
  // Through void*: Windows' GetProcAddress returns FARPROC, a function pointer of another type.
  driver.pointerGetAttribute = reinterpret_cast<decltype(driver.pointerGetAttribute)>(
      reinterpret_cast<void*>(FFNV_SYM_FUNC(driver.cuda->lib, "cuPointerGetAttribute")));
  return "";
}

const CudaDriver& driverLocked() {
  if (loadedDriver) return *loadedDriver;
  if (loadFailure.empty()) {
    auto driver = std::make_unique<CudaDriver>();
    loadFailure = load(*driver);
    if (loadFailure.empty()) {
      loadedDriver = driver.release();
      return *loadedDriver;
    }
    if (driver->cuda) cuda_free_functions(&driver->cuda);
  }
  throw FFmpegError("no CUDA device (" + loadFailure + ")");
}

}  // namespace

std::string CudaDriver::describe(CUresult result) const { return resultText(cuda, result); }

void CudaDriver::check(CUresult result, const std::string& what) const {
  if (result != CUDA_SUCCESS) throw FFmpegError(what + ": " + describe(result));
}

const CudaDriver& cudaDriver() {
  std::lock_guard<std::mutex> lock(driverMutex);
  return driverLocked();
}

BufferRefPtr sharedCudaDevice() {
  std::lock_guard<std::mutex> lock(driverMutex);
  if (!sharedDevice) {
    const CudaDriver& driver = driverLocked();
    BufferRefPtr device(av_hwdevice_ctx_alloc(AV_HWDEVICE_TYPE_CUDA));
    if (!device) throw std::bad_alloc();
    // A context FFmpeg did not create is one it never destroys: the retain above outlives it.
    auto* hw = static_cast<AVCUDADeviceContext*>(reinterpret_cast<AVHWDeviceContext*>(device->data)->hwctx);
    hw->cuda_ctx = driver.context;
    hw->stream = driver.stream;
    check(av_hwdevice_ctx_init(device.get()), "no CUDA device (FFmpeg cannot use the CUDA context)");
    sharedDevice = std::move(device);
  }
  BufferRefPtr ref(av_buffer_ref(sharedDevice.get()));
  if (!ref) throw std::bad_alloc();
  return ref;
}

CudaContextScope::CudaContextScope(const CudaDriver& driver) : driver_(driver) {
  driver_.check(driver_.cuda->cuCtxPushCurrent(driver_.context), "Cannot make the CUDA context current");
}

CudaContextScope::~CudaContextScope() {
  CUcontext popped = nullptr;
  driver_.cuda->cuCtxPopCurrent(&popped);
}

}  // namespace abrcast
