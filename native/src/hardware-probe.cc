#include "hardware-probe.h"

#include <ffnvcodec/dynlink_loader.h>
extern "C" {
#include <libavutil/hwcontext_cuda.h>
}

#include <dlfcn.h>

#include <mutex>
#include <vector>

#include "log-router.h"
#include "pipeline-events.h"

namespace abrcast {

namespace {

std::mutex deviceMutex;
BufferRefPtr cudaDevice;  // the process-wide device; pipelines hold av_buffer_ref copies

class LogCollector : public WarningSink {
 public:
  void onWarning(std::string message) override { lines.push_back(std::move(message)); }
  std::vector<std::string> lines;
};

// FFmpeg answers "Operation not permitted" both when the driver is missing and
// when it has no device; tell the two apart for the user.
std::string cudaFailureDetail(int code) {
  void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) return "the NVIDIA driver library libcuda.so.1 is not installed";
  dlclose(driver);
  return "the NVIDIA driver is installed but no usable GPU was found: " + errorText(code);
}

std::string gpuName() {
  CudaFunctions* cuda = nullptr;
  if (cuda_load_functions(&cuda, nullptr) < 0 || !cuda) return "NVIDIA GPU";
  std::string name = "NVIDIA GPU";
  CUdevice device = 0;
  char buffer[256] = {0};
  if (cuda->cuInit(0) == CUDA_SUCCESS && cuda->cuDeviceGet(&device, 0) == CUDA_SUCCESS &&
      cuda->cuDeviceGetName(buffer, sizeof buffer - 1, device) == CUDA_SUCCESS) {
    name = buffer;
  }
  cuda_free_functions(&cuda);
  return name;
}

// Turns what NVENC logged while failing to open into the reason users read.
std::string nvencFailureReason(const std::string& device, int code, const std::vector<std::string>& log) {
  for (const std::string& line : log) {
    const auto at = line.find("minimum required Nvidia driver for nvenc is ");
    if (at != std::string::npos) {
      std::string version = line.substr(at + 44);
      version = version.substr(0, version.find(' '));
      return "driver too old: needs >= " + version;
    }
  }
  std::string detail = errorText(code);
  for (const std::string& line : log) {
    if (line.find("OpenEncodeSession") != std::string::npos || line.find("No capable devices") != std::string::npos ||
        line.find("unsupported device") != std::string::npos) {
      detail = line;
      break;
    }
  }
  return "NVENC not available on this GPU (" + device + " has no usable video encoder: " + detail + ")";
}

}  // namespace

BufferRefPtr sharedCudaDevice() {
  std::lock_guard<std::mutex> lock(deviceMutex);
  if (!cudaDevice) {
    AVBufferRef* device = nullptr;
    // The primary context is the CUDA runtime's (cudaMalloc's), so a renderer's device frames
    // are valid in it without peer mappings.
    const int created =
        av_hwdevice_ctx_create(&device, AV_HWDEVICE_TYPE_CUDA, nullptr, nullptr, AV_CUDA_USE_PRIMARY_CONTEXT);
    if (created < 0) throw FFmpegError("no CUDA device (" + cudaFailureDetail(created) + ")");
    cudaDevice.reset(device);
  }
  BufferRefPtr ref(av_buffer_ref(cudaDevice.get()));
  if (!ref) throw std::bad_alloc();
  return ref;
}

HardwareReport probeHardware(int width, int height) {
  installLogRouter();
  LogCollector log;
  ScopedLogTarget logTarget(&log, "");
  HardwareReport report;
  try {
    sharedCudaDevice();
  } catch (const FFmpegError& error) {
    report.reason = error.what();
    return report;
  }
  report.cuda = true;
  report.device = gpuName();

  const AVCodec* codec = avcodec_find_encoder_by_name("h264_nvenc");
  if (!codec) {
    report.reason = "this FFmpeg was built without h264_nvenc";
    return report;
  }
  CodecContextPtr context(avcodec_alloc_context3(codec));
  if (!context) throw std::bad_alloc();
  context->width = width;
  context->height = height;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = AVRational{1, 30};
  context->framerate = AVRational{30, 1};
  context->bit_rate = 800000;
  const int opened = avcodec_open2(context.get(), codec, nullptr);
  if (opened < 0) {
    report.reason = nvencFailureReason(report.device, opened, log.lines);
    return report;
  }
  report.nvenc = true;
  return report;
}

}  // namespace abrcast
