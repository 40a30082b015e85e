// The JS face of LadderPipeline. Everything Napi lives here and runs on the JS
// thread; worker threads reach JS only through the ThreadSafeFunction.
#pragma once

#include <napi.h>

#include <memory>

#include "ladder-pipeline.h"
#include "pipeline-events.h"
#include "pipeline-registry.h"

namespace abrcast {

class LadderEncoderBinding : public Napi::ObjectWrap<LadderEncoderBinding>, public PipelineEvents {
 public:
  static Napi::Function Define(Napi::Env env);

  // new NativeLadderEncoder(config, onEvent)
  explicit LadderEncoderBinding(const Napi::CallbackInfo& info);
  ~LadderEncoderBinding() override;

  // PipelineEvents: called from worker threads.
  void onReady() override;
  void onSegment(SegmentOutput&& segment) override;
  void onPart(PartOutput&& part) override;
  void onInit(InitOutput&& init) override;
  void onThumbnail(ThumbnailOutput&& thumbnail) override;
  void onWarning(std::string message) override;
  void onDrain(size_t queuedFrames) override;
  void onAudioDrain(size_t queuedSamples) override;
  void onProgress(int64_t frames) override;
  void onError(std::string message) override;
  void onFinished(PipelineSummary summary, bool failed) override;

 private:
  struct Event;
  using CleanupHook = Napi::Env::CleanupHook<void (*)(LadderEncoderBinding*), LadderEncoderBinding>;

  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value WriteCuda(const Napi::CallbackInfo& info);
  Napi::Value WriteAudio(const Napi::CallbackInfo& info);
  Napi::Value WriteMetadata(const Napi::CallbackInfo& info);
  void Start(const Napi::CallbackInfo& info);
  void End(const Napi::CallbackInfo& info);
  void Abort(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  void Ref(const Napi::CallbackInfo& info);
  void Unref(const Napi::CallbackInfo& info);
  Napi::Value GetThreadPlan(const Napi::CallbackInfo& info);

  [[noreturn]] void throwQueueFull(Napi::Env env) const;
  // write()'s buffer for the pipeline to read in place: referenced (so V8 keeps it) until the
  // pipeline returns it, which posts the reference back here to be deleted on the JS thread, with
  // the frame's `id` for write()'s promise (event 'released').
  std::unique_ptr<BorrowedPixels> borrow(Napi::Env env, Napi::TypedArray array, double id);
  void post(std::unique_ptr<Event> event);
  static void deliver(Napi::Env env, Napi::Function callback, Event* event);
  // The event as the object JS receives; takes its buffers.
  static Napi::Object toPayload(Napi::Env env, Event& event);
  static void onEnvironmentTeardown(LadderEncoderBinding* self);
  // The one way this binding lets go of its pipeline, whichever of dispose(), the destructor (the
  // JS object collected) and the environment's teardown comes first: drops the handle (the
  // registry stops and frees the pipeline), then the ThreadSafeFunction. Later calls do nothing.
  void shutdown();

  EncoderConfig config_;
  size_t frameBytes_ = 0;
  size_t frameStride_ = 0;
  PipelineHandle pipeline_;
  Napi::ThreadSafeFunction events_;
  bool eventsReleased_ = false;
  CleanupHook cleanupHook_;
};

}  // namespace abrcast
