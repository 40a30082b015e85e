// Module entry: the encoder class, the hardware and media probes and FFmpeg's versions.
#include <napi.h>

#include "hardware-probe.h"
#include "ladder-encoder-binding.h"
#include "ladder-preview-binding.h"
#include "log-router.h"
#include "media-probe-binding.h"

namespace abrcast {
namespace {

Napi::Value ProbeHardware(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int width = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 640;
  const int height = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 360;
  HardwareReport report = probeHardware(width, height);
  Napi::Object result = Napi::Object::New(env);
  result.Set("cuda", report.cuda);
  result.Set("nvenc", report.nvenc);
  if (!report.device.empty()) result.Set("device", report.device);
  if (!report.reason.empty()) result.Set("reason", report.reason);
  return result;
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
  exports.Set("probeMedia", Napi::Function::New(env, ProbeMedia, "probeMedia"));
  exports.Set("scaleLadderFrame", Napi::Function::New(env, ScaleLadderFrame, "scaleLadderFrame"));
  exports.Set("ffmpegVersions", Napi::Function::New(env, FFmpegVersions, "ffmpegVersions"));
  return exports;
}

}  // namespace abrcast

static Napi::Object InitAbrcast(Napi::Env env, Napi::Object exports) { return abrcast::Init(env, exports); }

NODE_API_MODULE(abrcast, InitAbrcast)
