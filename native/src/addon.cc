// Module entry: the encoder class, the hardware and media probes and FFmpeg's versions.
#include <napi.h>

#include "cuda-frame-import.h"
#include "hardware-probe.h"
#include "ladder-encoder-binding.h"
#include "ladder-preview-binding.h"
#include "log-router.h"
#include "media-probe-binding.h"
#include "napi-call.h"
#include "pipeline-registry.h"
#include "thread-budget.h"

namespace abrcast {
namespace {

Napi::Object hardwareReportObject(Napi::Env env, const HardwareReport& report) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("cuda", report.cuda);
  result.Set("nvenc", report.nvenc);
  if (!report.device.empty()) result.Set("device", report.device);
  if (!report.reason.empty()) result.Set("reason", report.reason);
  return result;
}

int sizeArgument(const Napi::CallbackInfo& info, size_t index, int fallback) {
  return info.Length() > index && info[index].IsNumber() ? info[index].As<Napi::Number>().Int32Value() : fallback;
}

Napi::Value ProbeHardware(const Napi::CallbackInfo& info) {
  return hardwareReportObject(info.Env(), probeHardware(sizeArgument(info, 0, 640), sizeArgument(info, 1, 360)));
}

// The same off the JS thread: loading libcuda, cuInit and an NVENC session take a while.
Napi::Value ProbeHardwareAsync(const Napi::CallbackInfo& info) {
  const int width = sizeArgument(info, 0, 640);
  const int height = sizeArgument(info, 1, 360);
  return callCoreAsync<HardwareReport>(
      info.Env(), "abrcast-probe-hardware", [width, height] { return probeHardware(width, height); }, hardwareReportObject);
}

// Test support: device memory for tests and examples that have no CUDA bindings of their own.
Napi::Value UploadToCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "uploadToCuda(data, rowBytes, pitch) needs a typed array and two numbers");
  }
  Napi::TypedArray data = info[0].As<Napi::TypedArray>();
  const size_t rowBytes = size_t(info[1].As<Napi::Number>().Int64Value());
  const size_t pitch = size_t(info[2].As<Napi::Number>().Int64Value());
  if (rowBytes == 0 || pitch < rowBytes || data.ByteLength() % rowBytes != 0) {
    throw Napi::RangeError::New(env, "Expected rowBytes dividing the data's length and pitch >= rowBytes");
  }
  const auto* bytes = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
  const uint64_t pointer = callCore(env, [&] { return uploadToCudaMemory(bytes, rowBytes, data.ByteLength() / rowBytes, pitch); });
  return Napi::BigInt::New(env, pointer);
}

void FreeCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool lossless = false;
  if (info.Length() < 1 || !info[0].IsBigInt()) throw Napi::TypeError::New(env, "freeCuda(pointer) needs a bigint");
  const uint64_t pointer = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  callCore(env, [&] { freeCudaMemory(pointer); });
}

Napi::Value FFmpegVersions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("ffmpeg", av_version_info());
  versions.Set("libavcodec", AV_STRINGIFY(LIBAVCODEC_VERSION));
  versions.Set("libavformat", AV_STRINGIFY(LIBAVFORMAT_VERSION));
  versions.Set("libavfilter", AV_STRINGIFY(LIBAVFILTER_VERSION));
  versions.Set("libavutil", AV_STRINGIFY(LIBAVUTIL_VERSION));
  return versions;
}

// setThreadBudget(threads): 0 returns to the CPUs this process may use.
void SetThreadBudget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double threads = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (threads != double(int(threads)) || threads < 0 || threads > kMaxThreads) {
    throw Napi::RangeError::New(env, "Expected integer between 0 and " + std::to_string(kMaxThreads) +
                                         " for setThreadBudget(threads) (0: the CPUs this process may use)");
  }
  setThreadBudget(int(threads));
}

Napi::Value ThreadBudgetNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ThreadBudget budget = currentThreadBudget();
  Napi::Object result = Napi::Object::New(env);
  result.Set("threads", budget.threads);
  result.Set("set", budget.set);
  result.Set("usableCpus", budget.cpus.count);
  result.Set("cpuSource", budget.cpus.source);
  result.Set("liveEncoders", double(PipelineRegistry::instance().liveCount()));
  return result;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  installLogRouter();
  exports.Set("NativeLadderEncoder", LadderEncoderBinding::Define(env));
  exports.Set("probeHardware", Napi::Function::New(env, ProbeHardware, "probeHardware"));
  exports.Set("probeHardwareAsync", Napi::Function::New(env, ProbeHardwareAsync, "probeHardwareAsync"));
  exports.Set("probeMedia", Napi::Function::New(env, ProbeMedia, "probeMedia"));
  exports.Set("scaleLadderFrame", Napi::Function::New(env, ScaleLadderFrame, "scaleLadderFrame"));
  exports.Set("uploadToCuda", Napi::Function::New(env, UploadToCuda, "uploadToCuda"));
  exports.Set("freeCuda", Napi::Function::New(env, FreeCuda, "freeCuda"));
  exports.Set("setThreadBudget", Napi::Function::New(env, SetThreadBudget, "setThreadBudget"));
  exports.Set("threadBudget", Napi::Function::New(env, ThreadBudgetNow, "threadBudget"));
  exports.Set("ffmpegVersions", Napi::Function::New(env, FFmpegVersions, "ffmpegVersions"));
  return exports;
}

}  // namespace abrcast

static Napi::Object InitAbrcast(Napi::Env env, Napi::Object exports) { return abrcast::Init(env, exports); }

NODE_API_MODULE(abrcast, InitAbrcast)
