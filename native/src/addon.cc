// Module entry: the encoder class, the hardware and media probes and FFmpeg's versions.
#include <napi.h>

#include "cuda-frame-import.h"
#include "hardware-probe.h"
#include "ladder-encoder-binding.h"
#include "ladder-preview-binding.h"
#include "log-router.h"
#include "media-probe-binding.h"

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
class HardwareProbeWorker : public Napi::AsyncWorker {
 public:
  HardwareProbeWorker(Napi::Env env, int width, int height)
      : Napi::AsyncWorker(env, "abrcast-probe-hardware"), width_(width), height_(height), deferred_(env) {}
  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override {
    try {
      report_ = probeHardware(width_, height_);
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(hardwareReportObject(Env(), report_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  int width_;
  int height_;
  HardwareReport report_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ProbeHardwareAsync(const Napi::CallbackInfo& info) {
  auto* worker = new HardwareProbeWorker(info.Env(), sizeArgument(info, 0, 640), sizeArgument(info, 1, 360));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // deletes itself when done
  return promise;
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
  try {
    const auto* bytes = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    return Napi::BigInt::New(env, uploadToCudaMemory(bytes, rowBytes, data.ByteLength() / rowBytes, pitch));
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, error.what());
  }
}

void FreeCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool lossless = false;
  if (info.Length() < 1 || !info[0].IsBigInt()) throw Napi::TypeError::New(env, "freeCuda(pointer) needs a bigint");
  const uint64_t pointer = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  try {
    freeCudaMemory(pointer);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, error.what());
  }
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
  exports.Set("ffmpegVersions", Napi::Function::New(env, FFmpegVersions, "ffmpegVersions"));
  return exports;
}

}  // namespace abrcast

static Napi::Object InitAbrcast(Napi::Env env, Napi::Object exports) { return abrcast::Init(env, exports); }

NODE_API_MODULE(abrcast, InitAbrcast)
