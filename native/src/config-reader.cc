#include "config-reader.h"

namespace abrcast {

namespace {

std::string requireString(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  if (!value.IsString()) throw Napi::TypeError::New(object.Env(), std::string("Expected string for native option ") + key);
  return value.As<Napi::String>().Utf8Value();
}

int requireInt(const Napi::Object& object, const char* key) {
  Napi::Value value = object.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(object.Env(), std::string("Expected number for native option ") + key);
  return value.As<Napi::Number>().Int32Value();
}

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
    audio.pcmSampleRate = requireInt(object, "sampleRate");
    audio.pcmChannels = requireInt(object, "channels");
    audio.maxQueuedSamples = requireInt(object, "maxQueuedSamples");
  } else {
    throw Napi::TypeError::New(options.Env(), "Expected file or pcm for native option audio.kind but received " + kind);
  }
  audio.bitrateKbps = requireInt(object, "bitrate");
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
  config.width = requireInt(options, "width");
  config.height = requireInt(options, "height");
  config.frameRate = AVRational{requireInt(options, "fpsNum"), requireInt(options, "fpsDen")};
  config.inputFormat = pixelFormatNamed(env, requireString(options, "pixelFormat"));
  config.framesPerSegment = requireInt(options, "framesPerSegment");
  config.encoder = requireString(options, "encoder") == "nvenc" ? EncoderKind::Nvenc : EncoderKind::X264;
  config.x264Preset = requireString(options, "x264Preset");
  config.nvencPreset = requireString(options, "nvencPreset");
  config.nvencTune = requireString(options, "nvencTune");
  config.scaleFlags = requireString(options, "scaleFlags");
  config.lowLatency = requireBool(options, "lowLatency");
  config.maxFramesInFlight = requireInt(options, "maxFramesInFlight");
  config.outputDir = requireString(options, "outputDir");
  config.audio = readAudioConfig(options);
  config.input = readInputConfig(options);
  config.cudaFrames = requireBool(options, "cudaFrames");
  Napi::Value list = options.Get("renditions");
  if (!list.IsArray()) throw Napi::TypeError::New(env, "Expected array for native option renditions");
  Napi::Array renditions = list.As<Napi::Array>();
  for (uint32_t i = 0; i < renditions.Length(); ++i) {
    Napi::Object item = renditions.Get(i).As<Napi::Object>();
    config.renditions.push_back(RenditionConfig{requireString(item, "name"), requireInt(item, "width"),
                                                requireInt(item, "height"), requireInt(item, "bitrate")});
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
