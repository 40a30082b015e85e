#include "ladder-encoder-binding.h"

#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "config-reader.h"
#include "napi-call.h"

namespace abrcast {

// One event on its way from a worker thread to JS.
struct LadderEncoderBinding::Event {
  enum class Kind { Ready, Init, Part, Segment, Thumbnail, Warning, Drain, AudioDrain, Progress, Error, Finished, Released } kind;
  std::string message;
  SegmentOutput segment;
  PartOutput part;
  InitOutput init;
  ThumbnailOutput thumbnail;
  size_t queued = 0;
  int64_t frames = 0;
  PipelineSummary summary;
  bool failed = false;
  // Copied, not pointed to: an event may still be queued when the binding is freed.
  std::string renditionName;
  // Released: the written buffer's reference, deleted when delivered (left to the environment's
  // teardown when it never is), and write()'s id for it.
  napi_ref buffer = nullptr;
  double frameId = 0;
};

namespace {

// Hands bytes to JS without copying them again.
Napi::Buffer<uint8_t> takeBuffer(Napi::Env env, std::vector<uint8_t>& data) {
  auto* bytes = new std::vector<uint8_t>(std::move(data));
  return Napi::Buffer<uint8_t>::NewOrCopy(
      env, bytes->data(), bytes->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* owned) { delete owned; }, bytes);
}

}  // namespace

Napi::Function LadderEncoderBinding::Define(Napi::Env env) {
  return DefineClass(env, "NativeLadderEncoder",
                     {
                         InstanceMethod<&LadderEncoderBinding::Write>("write"),
                         InstanceMethod<&LadderEncoderBinding::WriteCuda>("writeCuda"),
                         InstanceMethod<&LadderEncoderBinding::WriteAudio>("writeAudio"),
                         InstanceMethod<&LadderEncoderBinding::WriteMetadata>("writeMetadata"),
                         InstanceMethod<&LadderEncoderBinding::Start>("start"),
                         InstanceMethod<&LadderEncoderBinding::End>("end"),
                         InstanceMethod<&LadderEncoderBinding::Abort>("abort"),
                         InstanceMethod<&LadderEncoderBinding::Dispose>("dispose"),
                         InstanceMethod<&LadderEncoderBinding::Ref>("ref"),
                         InstanceMethod<&LadderEncoderBinding::Unref>("unref"),
                         InstanceMethod<&LadderEncoderBinding::GetThreadPlan>("threadPlan"),
                     });
}

LadderEncoderBinding::LadderEncoderBinding(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LadderEncoderBinding>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "NativeLadderEncoder(config, onEvent) needs an object and a function");
  }
  config_ = readConfig(info[0].As<Napi::Object>());
  frameStride_ = size_t(config_.width) * bytesPerPixel(config_.inputFormat);
  frameBytes_ = frameStride_ * size_t(config_.height);

  events_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "abrcast-encoder-events", 0, 1);
  // The wrapper refs the event function only while it waits for us, so an
  // idle encoder never keeps the process alive.
  events_.Unref(env);
  cleanupHook_ = env.AddCleanupHook(&LadderEncoderBinding::onEnvironmentTeardown, this);
  callCore(env, [&] {
    try {
      pipeline_ = PipelineRegistry::instance().open(config_, this);
    } catch (...) {
      shutdown();
      // The wrapper is freed when its constructor throws: no hook may point at it at teardown.
      cleanupHook_.Remove(env);
      cleanupHook_ = CleanupHook();
      throw;
    }
  });
}

LadderEncoderBinding::~LadderEncoderBinding() {
  shutdown();
  if (!cleanupHook_.IsEmpty()) cleanupHook_.Remove(Env());
}

void LadderEncoderBinding::onEnvironmentTeardown(LadderEncoderBinding* self) {
  // The process is exiting, maybe without close(): stop the threads before
  // the environment they report to is gone.
  self->shutdown();
  self->cleanupHook_ = CleanupHook();
}

void LadderEncoderBinding::shutdown() {
  if (pipeline_) {
    pipeline_.reset();
#ifdef __GLIBC__
    // The encoder threads' malloc arenas keep what they freed; give it back, so RSS returns to
    // where it was before this encoder rather than staying at its peak.
    malloc_trim(0);
#endif
  }
  if (!eventsReleased_) {
    eventsReleased_ = true;
    events_.Release();
  }
}

Napi::Value LadderEncoderBinding::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (config_.fromFile()) throw Napi::Error::New(env, "write() is not available: frames are decoded from " + config_.input.source);
  if (!pipeline_) return Napi::Number::New(env, -1);
  if (config_.cudaFrames) throw Napi::TypeError::New(env, "Expected { cudaDevicePtr, pitch } for frame (cudaFrames: true)");
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "write(frame, id) needs a Buffer or Uint8Array and a number");
  }
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  if (array.ByteLength() != frameBytes_) {
    throw Napi::RangeError::New(env, "Expected frame of " + std::to_string(frameBytes_) + " bytes but received " +
                                         std::to_string(array.ByteLength()));
  }
  const double id = info[1].As<Napi::Number>().DoubleValue();
  const long queued = callCore(env, [&] { return pipeline_->submit(borrow(env, array, id)); });
  if (queued == LadderPipeline::kQueueFull) throwQueueFull(env);
  return Napi::Number::New(env, double(queued));
}

std::unique_ptr<BorrowedPixels> LadderEncoderBinding::borrow(Napi::Env env, Napi::TypedArray array, double id) {
  const auto* pixels = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  napi_ref buffer = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_reference(env, array, 1, &buffer), nullptr);
  try {
    // Made here, posted by whichever thread returns the frame (nothing there may fail). The
    // pipeline, and with it every borrowed frame, is gone before events_ is released (shutdown()).
    auto event = std::make_unique<Event>();
    event->kind = Event::Kind::Released;
    event->buffer = buffer;
    event->frameId = id;
    auto borrowed = std::make_unique<BorrowedPixels>(pixels, frameStride_,
                                                     [this, raw = event.get()] { post(std::unique_ptr<Event>(raw)); });
    event.release();  // the borrowed frame's now
    return borrowed;
  } catch (...) {
    napi_delete_reference(env, buffer);
    throw;
  }
}

void LadderEncoderBinding::throwQueueFull(Napi::Env env) const {
  throw Napi::RangeError::New(env, "Refused a frame: " + std::to_string(LadderPipeline::maxQueuedFrames(config_)) +
                                       " frames already wait to be encoded (4 x maxFramesInFlight + 8); await write() before writing more");
}

Napi::Value LadderEncoderBinding::WriteCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!config_.cudaFrames) throw Napi::Error::New(env, "writeCuda() needs the option cudaFrames: true");
  if (!pipeline_) return Napi::Number::New(env, -1);
  if (info.Length() < 1) throw Napi::TypeError::New(env, "Expected { cudaDevicePtr, pitch } for frame");
  const DeviceFrame frame = readDeviceFrame(info[0]);
  const long queued = callCore(env, [&] { return pipeline_->submitCuda(frame.pointer, frame.pitch); });
  if (queued == LadderPipeline::kQueueFull) throwQueueFull(env);
  return Napi::Number::New(env, double(queued));
}

Napi::Value LadderEncoderBinding::WriteAudio(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (config_.audio.kind != AudioSourceKind::Pcm) throw Napi::Error::New(env, "writeAudio() needs audio: { pcm } options");
  if (!pipeline_) return Napi::Number::New(env, -1);
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "Expected a Float32Array of interleaved samples");
  }
  Napi::Float32Array array = info[0].As<Napi::Float32Array>();
  const size_t channels = size_t(config_.audio.pcmChannels);
  if (array.ElementLength() % channels != 0) {
    throw Napi::RangeError::New(env, "Expected a multiple of " + std::to_string(channels) + " samples but received " +
                                         std::to_string(array.ElementLength()));
  }
  const long queued = callCore(env, [&] { return pipeline_->submitAudio(array.Data(), array.ElementLength() / channels); });
  if (queued == AudioPipeline::kQueueFull) {
    throw Napi::RangeError::New(env, "Refused audio: " + std::to_string(AudioPipeline::maxQueuedSamples(config_)) +
                                         " sample frames already wait to be encoded (4 x maxQueuedSamples); await writeAudio() before writing more");
  }
  return Napi::Number::New(env, double(queued));
}

// writeMetadata(time, id3, duration, id): TS validated the values; the tag is copied.
Napi::Value LadderEncoderBinding::WriteMetadata(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (config_.container == Container::Ts && !config_.timedMetadata) {
    throw Napi::Error::New(env, "writeMetadata() on MPEG-TS needs the option timedMetadata: true");
  }
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "writeMetadata(time, id3, duration, id) needs a number, a Buffer and two numbers");
  }
  if (!pipeline_) return Napi::Boolean::New(env, false);
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  const auto* bytes = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  TimedMetadata metadata;
  metadata.time = info[0].As<Napi::Number>().DoubleValue();
  metadata.id3.assign(bytes, bytes + array.ByteLength());
  metadata.duration = info[2].As<Napi::Number>().DoubleValue();
  metadata.id = info[3].As<Napi::Number>().Uint32Value();
  return Napi::Boolean::New(env, callCore(env, [&] { return pipeline_->submitMetadata(metadata); }));
}

void LadderEncoderBinding::Start(const Napi::CallbackInfo& info) {
  if (!config_.fromFile()) throw Napi::Error::New(info.Env(), "start() needs file input (native option input)");
  if (pipeline_) callCore(info.Env(), [&] { pipeline_->startInput(); });
}

void LadderEncoderBinding::End(const Napi::CallbackInfo&) {
  if (pipeline_) pipeline_->endInput();
}

void LadderEncoderBinding::Abort(const Napi::CallbackInfo&) {
  if (pipeline_) pipeline_->abort();
}

void LadderEncoderBinding::Dispose(const Napi::CallbackInfo&) {
  shutdown();
  if (!cleanupHook_.IsEmpty()) {
    cleanupHook_.Remove(Env());
    cleanupHook_ = CleanupHook();
  }
}

void LadderEncoderBinding::Ref(const Napi::CallbackInfo& info) {
  if (!eventsReleased_) events_.Ref(info.Env());
}

void LadderEncoderBinding::Unref(const Napi::CallbackInfo& info) {
  if (!eventsReleased_) events_.Unref(info.Env());
}

Napi::Value LadderEncoderBinding::GetThreadPlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!pipeline_) return env.Undefined();
  const ThreadPlan& plan = pipeline_->threadPlan();
  Napi::Object result = Napi::Object::New(env);
  result.Set("usableCpus", plan.usableCpus);
  result.Set("cpuSource", plan.cpuSource);
  result.Set("budget", plan.budget);
  result.Set("budgetSet", plan.budgetSet);
  result.Set("encoders", plan.encoders);
  result.Set("share", plan.share);
  result.Set("shareSet", plan.shareSet);
  Napi::Array x264 = Napi::Array::New(env, plan.x264Threads.size());
  for (size_t i = 0; i < plan.x264Threads.size(); ++i) x264.Set(uint32_t(i), plan.x264Threads[i]);
  result.Set("x264Threads", x264);
  result.Set("scalerThreads", plan.scalerThreads);
  result.Set("conversionBands", plan.conversionBands);
  result.Set("decoderThreads", plan.decoderThreads);
  return result;
}

void LadderEncoderBinding::post(std::unique_ptr<Event> event) {
  if (PipelineRegistry::exiting()) return;  // Node is gone (process.exit()): the event is dropped with it
  Event* raw = event.release();
  if (events_.NonBlockingCall(raw, &LadderEncoderBinding::deliver) != napi_ok) delete raw;  // environment closing
}

void LadderEncoderBinding::onReady() {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Ready;
  post(std::move(event));
}

void LadderEncoderBinding::onSegment(SegmentOutput&& segment) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Segment;
  event->renditionName = config_.renditions[size_t(segment.rendition)].name;
  event->segment = std::move(segment);
  post(std::move(event));
}

void LadderEncoderBinding::onPart(PartOutput&& part) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Part;
  event->renditionName = config_.renditions[size_t(part.rendition)].name;
  event->part = std::move(part);
  post(std::move(event));
}

void LadderEncoderBinding::onInit(InitOutput&& init) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Init;
  event->renditionName = config_.renditions[size_t(init.rendition)].name;
  event->init = std::move(init);
  post(std::move(event));
}

void LadderEncoderBinding::onThumbnail(ThumbnailOutput&& thumbnail) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Thumbnail;
  event->renditionName = config_.renditions[size_t(thumbnail.rendition)].name;
  event->thumbnail = std::move(thumbnail);
  post(std::move(event));
}

void LadderEncoderBinding::onWarning(std::string message) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Warning;
  event->message = std::move(message);
  post(std::move(event));
}

void LadderEncoderBinding::onDrain(size_t queuedFrames) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Drain;
  event->queued = queuedFrames;
  post(std::move(event));
}

void LadderEncoderBinding::onAudioDrain(size_t queuedSamples) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::AudioDrain;
  event->queued = queuedSamples;
  post(std::move(event));
}

void LadderEncoderBinding::onProgress(int64_t frames) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Progress;
  event->frames = frames;
  post(std::move(event));
}

void LadderEncoderBinding::onError(std::string message) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Error;
  event->message = std::move(message);
  post(std::move(event));
}

void LadderEncoderBinding::onFinished(PipelineSummary summary, bool failed) {
  auto event = std::make_unique<Event>();
  event->kind = Event::Kind::Finished;
  event->summary = std::move(summary);
  event->failed = failed;
  post(std::move(event));
}

void LadderEncoderBinding::deliver(Napi::Env env, Napi::Function callback, Event* raw) {
  std::unique_ptr<Event> event(raw);
  if (!env || !callback) return;
  // Called by libuv outside any JS frame, so nothing may escape (it would abort the process). A
  // listener's error surfaces as an uncaught exception, as an EventEmitter's would. While a worker's
  // environment terminates, every Node-API call fails and napi_throw too: the event goes with it.
  try {
    callback.Call({toPayload(env, *event)});
  } catch (const Napi::Error& error) {
    napi_throw(env, error.Value());
  } catch (const std::exception& error) {
    napi_throw_error(env, nullptr, error.what());
  }
}

Napi::Object LadderEncoderBinding::toPayload(Napi::Env env, Event& event) {
  Napi::Object payload = Napi::Object::New(env);
  switch (event.kind) {
    case Event::Kind::Ready:
      payload.Set("type", "ready");
      break;
    case Event::Kind::Released:
      // The pipeline no longer reads the buffer: V8 may have it back.
      napi_delete_reference(env, event.buffer);
      payload.Set("type", "released");
      payload.Set("id", event.frameId);
      break;
    case Event::Kind::Segment: {
      SegmentOutput& s = event.segment;
      payload.Set("type", "segment");
      payload.Set("rendition", event.renditionName);
      payload.Set("index", s.index);
      payload.Set("startFrame", double(s.startFrame));
      payload.Set("durationFrames", double(s.durationFrames));
      payload.Set("codecs", s.codecs);
      payload.Set("ptsOffset", s.ptsOffset);
      if (!s.path.empty()) payload.Set("path", s.path);
      payload.Set("data", takeBuffer(env, s.data));
      Napi::Array iframes = Napi::Array::New(env, s.iframes.size());
      for (size_t i = 0; i < s.iframes.size(); ++i) {
        Napi::Object item = Napi::Object::New(env);
        item.Set("offset", double(s.iframes[i].offset));
        item.Set("length", double(s.iframes[i].length));
        item.Set("frame", double(s.iframes[i].pts));
        iframes.Set(uint32_t(i), item);
      }
      payload.Set("iframes", iframes);
      break;
    }
    case Event::Kind::Thumbnail: {
      ThumbnailOutput& t = event.thumbnail;
      payload.Set("type", "thumbnail");
      payload.Set("rendition", event.renditionName);
      payload.Set("segmentIndex", t.segmentIndex);
      payload.Set("startFrame", double(t.startFrame));
      payload.Set("width", t.width);
      payload.Set("height", t.height);
      payload.Set("data", takeBuffer(env, t.data));
      break;
    }
    case Event::Kind::Part: {
      PartOutput& p = event.part;
      payload.Set("type", "part");
      payload.Set("rendition", event.renditionName);
      payload.Set("segmentIndex", p.segmentIndex);
      payload.Set("partIndex", p.index);
      payload.Set("startFrame", double(p.startFrame));
      payload.Set("durationFrames", double(p.durationFrames));
      payload.Set("independent", p.independent);
      payload.Set("codecs", p.codecs);
      payload.Set("data", takeBuffer(env, p.data));
      break;
    }
    case Event::Kind::Init: {
      payload.Set("type", "init");
      payload.Set("rendition", event.renditionName);
      payload.Set("codecs", event.init.codecs);
      if (!event.init.path.empty()) payload.Set("path", event.init.path);
      payload.Set("data", takeBuffer(env, event.init.data));
      break;
    }
    case Event::Kind::Warning:
      payload.Set("type", "warning");
      payload.Set("message", event.message);
      break;
    case Event::Kind::Drain:
      payload.Set("type", "drain");
      payload.Set("queued", double(event.queued));
      break;
    case Event::Kind::AudioDrain:
      payload.Set("type", "audioDrain");
      payload.Set("queued", double(event.queued));
      break;
    case Event::Kind::Progress:
      payload.Set("type", "progress");
      payload.Set("frames", double(event.frames));
      break;
    case Event::Kind::Error:
      payload.Set("type", "error");
      payload.Set("message", event.message);
      break;
    case Event::Kind::Finished: {
      payload.Set("type", "finished");
      payload.Set("frames", double(event.summary.frames));
      payload.Set("failed", event.failed);
      if (event.summary.audioSamples >= 0) payload.Set("audioSamples", double(event.summary.audioSamples));
      Napi::Array renditions = Napi::Array::New(env, event.summary.renditions.size());
      for (size_t i = 0; i < event.summary.renditions.size(); ++i) {
        Napi::Object item = Napi::Object::New(env);
        item.Set("segments", event.summary.renditions[i].segments);
        item.Set("bytes", double(event.summary.renditions[i].bytes));
        renditions.Set(uint32_t(i), item);
      }
      payload.Set("renditions", renditions);
      break;
    }
  }
  return payload;
}

}  // namespace abrcast
