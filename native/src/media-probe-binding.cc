#include "media-probe-binding.h"

#include "media-input.h"

namespace abrcast {

namespace {

class ProbeWorker : public Napi::AsyncWorker {
 public:
  ProbeWorker(Napi::Env env, std::string source, double timeoutSeconds)
      : Napi::AsyncWorker(env, "abrcast-probe-media"), source_(std::move(source)), timeoutSeconds_(timeoutSeconds), deferred_(env) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      info_ = probeMedia(source_, timeoutSeconds_);
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("width", info_.width);
    result.Set("height", info_.height);
    result.Set("fpsNum", info_.frameRate.num);
    result.Set("fpsDen", info_.frameRate.den);
    if (info_.durationSeconds >= 0) result.Set("durationSeconds", info_.durationSeconds);
    if (info_.frames >= 0) result.Set("frames", double(info_.frames));
    result.Set("pixelFormat", info_.pixelFormat);
    result.Set("videoCodec", info_.videoCodec);
    if (!info_.audioCodec.empty()) result.Set("audioCodec", info_.audioCodec);
    result.Set("formatName", info_.formatName);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  std::string source_;
  double timeoutSeconds_;
  Napi::Promise::Deferred deferred_;
  MediaInfo info_;
};

}  // namespace

Napi::Value ProbeMedia(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "probeMedia(source, timeoutSeconds?) needs a string");
  double timeoutSeconds = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    timeoutSeconds = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
    if (!(timeoutSeconds > 0)) throw Napi::RangeError::New(env, "probeMedia(source, timeoutSeconds): expected seconds greater than 0");
  }
  auto* worker = new ProbeWorker(env, info[0].As<Napi::String>().Utf8Value(), timeoutSeconds);
  Napi::Promise promise = worker->promise();
  worker->Queue();  // the worker deletes itself after OnOK/OnError
  return promise;
}

}  // namespace abrcast
