// How the bindings call into the core: the one place where its C++ exceptions (FFmpegError,
// bad_alloc) become JS errors, on the JS thread or from a worker.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace abrcast {

// Runs `body` (on the JS thread) and returns what it returns; a C++ exception becomes a JS Error
// with the same message. Napi's own errors (TypeError, RangeError) pass unchanged.
template <typename Body>
auto callCore(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, error.what());
  }
}

// Runs `work` on libuv's pool, off the JS thread, and returns a promise: resolved with
// toJs(env, result), or rejected with an Error carrying the message of what `work` threw.
template <typename Result>
Napi::Promise callCoreAsync(Napi::Env env, const char* resourceName, std::function<Result()> work,
                            std::function<Napi::Value(Napi::Env, const Result&)> toJs) {
  class Worker : public Napi::AsyncWorker {
   public:
    Worker(Napi::Env env, const char* name, std::function<Result()> work,
           std::function<Napi::Value(Napi::Env, const Result&)> toJs)
        : Napi::AsyncWorker(env, name), work_(std::move(work)), toJs_(std::move(toJs)), deferred_(env) {}
    Napi::Promise promise() const { return deferred_.Promise(); }
    void Execute() override {
      try {
        result_ = work_();
      } catch (const std::exception& error) {
        SetError(error.what());
      }
    }
    void OnOK() override { deferred_.Resolve(toJs_(Env(), result_)); }
    void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

   private:
    std::function<Result()> work_;
    std::function<Napi::Value(Napi::Env, const Result&)> toJs_;
    Napi::Promise::Deferred deferred_;
    Result result_{};
  };
  auto* worker = new Worker(env, resourceName, std::move(work), std::move(toJs));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // deletes itself after OnOK/OnError
  return promise;
}

}  // namespace abrcast
