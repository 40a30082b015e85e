#include "config-reader.h"

#include "thread-budget.h"

namespace abrcast {

namespace {

std::string requireString(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  if (!value.IsString()) throw Napi::TypeError::New(object.Env(), std::string("Expected string for native option ") + key);
  return value.As<Napi::String>().Utf8Value();
}

// The addon is a public surface too: what would divide by zero or overflow a size is refused here,
// whatever TS checked before.
int requireIntIn(const Napi::Object& object, const char* key, int min, int max, const char* prefix = "") {
  Napi::Value value = object.Get(key);
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : 0;
  if (!value.IsNumber() || number != double(int64_t(number)) || number < min || number > max) {
    const std::string received = value.IsNumber() ? value.ToString().Utf8Value() : value.IsUndefined() ? "undefined" : "a non-number";
    throw Napi::RangeError::New(object.Env(), "Expected integer between " + std::to_string(min) + " and " +
                                                  std::to_string(max) + " for native option " + prefix + key +
                                                  " but received " + received);
  }
  return int(number);
}

constexpr int kMaxDimension = 16384;

AVPixelFormat pixelFormatNamed(Napi::Env env, const std::string& name) {
  if (name == "rgb24") return AV_PIX_FMT_RGB24;
  if (name == "rgba") return AV_PIX_FMT_RGBA;
  if (name == "bgra") return AV_PIX_FMT_BGRA;
  throw Napi::TypeError::New(env, "Expected one of rgb24, rgba, bgra for pixelFormat but received " + name);
}

bool requireBool(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  if (!value.IsBoolean()) throw Napi::TypeError::New(object.Env(), std::string("Expected boolean for native option ") + key);
  return value.As<Napi::Boolean>().Value();
}

AudioConfig readAudioConfig(const Napi::Object& options) {
  AudioConfig audio;
  Napi::Value value = options.Get("audio");
  if (value.IsUndefined()) return audio;
  if (!value.IsObject()) throw Napi::TypeError::New(options.Env(), "Expected object for native option audio");
  Napi::Object object = value.As<Napi::Object>();
  const std::string kind = requireString(object, "kind");
  if (kind == "file") {
    audio.kind = AudioSourceKind::File;
    audio.source = requireString(object, "source");
  } else if (kind == "pcm") {
    audio.kind = AudioSourceKind::Pcm;
    audio.pcmSampleRate = requireIntIn(object, "sampleRate", 1000, 768000, "audio.");
    audio.pcmChannels = requireIntIn(object, "channels", 1, 64, "audio.");
    audio.maxQueuedSamples = requireIntIn(object, "maxQueuedSamples", 1, 1 << 26, "audio.");
  } else {
    throw Napi::TypeError::New(options.Env(), "Expected file or pcm for native option audio.kind but received " + kind);
  }
  audio.bitrateKbps = requireIntIn(object, "bitrate", 8, 1024, "audio.");
  audio.shortest = requireBool(object, "shortest");
  return audio;
}

// input: { file, live }: frames decoded from a file or URL instead of written from JS.
FileInputConfig readInputConfig(const Napi::Object& options) {
  FileInputConfig input;
  Napi::Value value = options.Get("input");
  if (value.IsUndefined()) return input;
  if (!value.IsObject()) throw Napi::TypeError::New(options.Env(), "Expected object for native option input");
  Napi::Object object = value.As<Napi::Object>();
  input.source = requireString(object, "file");
  input.live = requireBool(object, "live");
  if (input.source.empty()) throw Napi::TypeError::New(options.Env(), "Expected non-empty string for native option input.file");
  return input;
}

}  // namespace

// Copies the JS options into the plain struct the threads read (validated in TS first).
EncoderConfig readConfig(const Napi::Object& options) {
  Napi::Env env = options.Env();
  EncoderConfig config;
  config.width = requireIntIn(options, "width", 2, kMaxDimension);
  config.height = requireIntIn(options, "height", 2, kMaxDimension);
  config.frameRate = AVRational{requireIntIn(options, "fpsNum", 1, 1 << 30), requireIntIn(options, "fpsDen", 1, 1 << 30)};
  config.inputFormat = pixelFormatNamed(env, requireString(options, "pixelFormat"));
  config.framesPerSegment = requireIntIn(options, "framesPerSegment", 1, 1 << 20);
  if (!options.Get("framesPerPart").IsUndefined()) {
    config.framesPerPart = requireIntIn(options, "framesPerPart", 1, config.framesPerSegment);
  }
  if (!options.Get("container").IsUndefined()) {
    const std::string container = requireString(options, "container");
    if (container != "ts" && container != "fmp4") {
      throw Napi::TypeError::New(env, "Expected one of ts, fmp4 for native option container but received " + container);
    }
    config.container = container == "fmp4" ? Container::Fmp4 : Container::Ts;
  }
  config.encoder = requireString(options, "encoder") == "nvenc" ? EncoderKind::Nvenc : EncoderKind::X264;
  config.x264Preset = requireString(options, "x264Preset");
  config.nvencPreset = requireString(options, "nvencPreset");
  config.nvencTune = requireString(options, "nvencTune");
  config.scaleFlags = requireString(options, "scaleFlags");
  config.lowLatency = requireBool(options, "lowLatency");
  config.maxFramesInFlight = requireIntIn(options, "maxFramesInFlight", 1, 1024);
  if (!options.Get("threads").IsUndefined()) config.threadShare = requireIntIn(options, "threads", 1, kMaxThreads);
  config.outputDir = requireString(options, "outputDir");
  Napi::Value timeout = options.Get("ioTimeout");
  if (!timeout.IsUndefined()) {
    const double seconds = timeout.IsNumber() ? timeout.As<Napi::Number>().DoubleValue() : -1;
    if (!(seconds > 0 && seconds <= 86400)) {
      throw Napi::RangeError::New(env, "Expected seconds greater than 0 and at most 86400 for native option ioTimeout but received " +
                                           timeout.ToString().Utf8Value());
    }
    config.ioTimeoutSeconds = seconds;
  }
  config.audio = readAudioConfig(options);
  config.input = readInputConfig(options);
  config.cudaFrames = requireBool(options, "cudaFrames");
  if (!options.Get("thumbnailWidth").IsUndefined()) config.thumbnailWidth = requireIntIn(options, "thumbnailWidth", 16, kMaxDimension);
  if (!options.Get("timedMetadata").IsUndefined()) config.timedMetadata = requireBool(options, "timedMetadata");
  Napi::Value list = options.Get("renditions");
  if (!list.IsArray()) throw Napi::TypeError::New(env, "Expected array for native option renditions");
  Napi::Array renditions = list.As<Napi::Array>();
  if (renditions.Length() == 0 || renditions.Length() > 32) {
    throw Napi::RangeError::New(env, "Expected 1 to 32 entries for native option renditions but received " +
                                         std::to_string(renditions.Length()));
  }
  for (uint32_t i = 0; i < renditions.Length(); ++i) {
    Napi::Value value = renditions.Get(i);
    if (!value.IsObject()) throw Napi::TypeError::New(env, "Expected object for native option renditions[" + std::to_string(i) + "]");
    Napi::Object item = value.As<Napi::Object>();
    const std::string prefix = "renditions[" + std::to_string(i) + "].";
    config.renditions.push_back(RenditionConfig{requireString(item, "name"),
                                                requireIntIn(item, "width", 2, kMaxDimension, prefix.c_str()),
                                                requireIntIn(item, "height", 2, kMaxDimension, prefix.c_str()),
                                                requireIntIn(item, "bitrate", 1, 1000000, prefix.c_str())});
  }
  // encoderOptions: extra AVOptions for every video encoder; any the encoder does not take is an error.
  Napi::Value extra = options.Get("encoderOptions");
  if (!extra.IsUndefined()) {
    if (!extra.IsObject()) throw Napi::TypeError::New(env, "Expected object for native option encoderOptions");
    Napi::Object object = extra.As<Napi::Object>();
    Napi::Array keys = object.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      config.encoderOptions.emplace_back(key, requireString(object, key.c_str()));
    }
  }
  return config;
}

DeviceFrame readDeviceFrame(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, "Expected { cudaDevicePtr, pitch } for frame");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value pointer = object.Get("cudaDevicePtr");
  Napi::Value pitch = object.Get("pitch");
  if (!pointer.IsBigInt() || !pitch.IsNumber()) {
    throw Napi::TypeError::New(env, "Expected bigint cudaDevicePtr and number pitch for the native device frame");
  }
  DeviceFrame frame;
  bool lossless = false;
  frame.pointer = pointer.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless || frame.pointer == 0) throw Napi::RangeError::New(env, "Expected a non-zero 64-bit cudaDevicePtr");
  frame.pitch = size_t(pitch.As<Napi::Number>().Int64Value());
  return frame;
}

}  // namespace abrcast
