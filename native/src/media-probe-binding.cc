#include "media-probe-binding.h"

#include "media-input.h"
#include "napi-call.h"

namespace abrcast {

namespace {

Napi::Value mediaInfoObject(Napi::Env env, const MediaInfo& info) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("width", info.width);
  result.Set("height", info.height);
  result.Set("fpsNum", info.frameRate.num);
  result.Set("fpsDen", info.frameRate.den);
  if (info.durationSeconds >= 0) result.Set("durationSeconds", info.durationSeconds);
  if (info.frames >= 0) result.Set("frames", double(info.frames));
  result.Set("pixelFormat", info.pixelFormat);
  result.Set("videoCodec", info.videoCodec);
  if (!info.audioCodec.empty()) result.Set("audioCodec", info.audioCodec);
  result.Set("formatName", info.formatName);
  return result;
}

}  // namespace

Napi::Value ProbeMedia(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "probeMedia(source, timeoutSeconds?) needs a string");
  double timeoutSeconds = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    timeoutSeconds = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
    if (!(timeoutSeconds > 0)) throw Napi::RangeError::New(env, "probeMedia(source, timeoutSeconds): expected seconds greater than 0");
  }
  std::string source = info[0].As<Napi::String>().Utf8Value();
  return callCoreAsync<MediaInfo>(
      env, "abrcast-probe-media", [source, timeoutSeconds] { return probeMedia(source, timeoutSeconds); }, mediaInfoObject);
}

}  // namespace abrcast
