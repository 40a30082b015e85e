#include "hardware-probe.h"

#include <vector>

#include "cuda-driver.h"
#include "log-router.h"
#include "pipeline-events.h"

namespace abrcast {

namespace {

class LogCollector : public WarningSink {
 public:
  void onWarning(std::string message) override { lines.push_back(std::move(message)); }
  std::vector<std::string> lines;
};

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
  report.device = cudaDriver().gpuName;

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
