#include "ladder-preview-binding.h"

#include "config-reader.h"
#include "cuda-driver.h"
#include "ladder-filter-graph.h"
#include "log-router.h"
#include "napi-call.h"
#include "pushed-frame-source.h"
#include "thread-budget.h"

namespace abrcast {

namespace {

// Packs a yuv420p frame's planes (Y, then U, then V) without row padding.
Napi::Buffer<uint8_t> packPlanes(Napi::Env env, const AVFrame* frame) {
  const int size = av_image_get_buffer_size(AVPixelFormat(frame->format), frame->width, frame->height, 1);
  check(size, "Cannot size a scaled frame");
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, size_t(size));
  check(av_image_copy_to_buffer(buffer.Data(), size, frame->data, frame->linesize, AVPixelFormat(frame->format),
                                frame->width, frame->height, 1),
        "Cannot copy a scaled frame");
  return buffer;
}

}  // namespace

Napi::Value ScaleLadderFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsBoolean()) {
    throw Napi::TypeError::New(env, "scaleLadderFrame(config, frame, useCuda) needs an object, a frame and a boolean");
  }
  EncoderConfig config = readConfig(info[0].As<Napi::Object>());
  // One frame, no encoder: the scaler may use the whole budget.
  config.threads = planThreads(config, currentThreadBudget().threads);
  const bool useCuda = info[2].As<Napi::Boolean>().Value();
  const size_t stride = size_t(config.width) * bytesPerPixel(config.inputFormat);
  const bool onDevice = !info[1].IsTypedArray();
  Napi::TypedArray pixels;
  DeviceFrame deviceFrame;
  if (onDevice) {
    deviceFrame = readDeviceFrame(info[1]);
  } else {
    pixels = info[1].As<Napi::TypedArray>();
    if (pixels.ByteLength() != stride * size_t(config.height)) {
      throw Napi::RangeError::New(env, "Expected frame of " + std::to_string(stride * size_t(config.height)) +
                                           " bytes but received " + std::to_string(pixels.ByteLength()));
    }
  }

  return callCore(env, [&]() -> Napi::Value {
    installLogRouter();
    // The encoder's sources: on the GPU path a device frame is converted by the kernel, never in
    // host memory. The CPU path converts from the caller's rows as packed as they are (e.g. 1926
    // bytes for 642 rgb24 pixels); align 1 keeps the RGB copies of the other paths packed the same
    // way, so the conversion is checked on unaligned pitches either way.
    PushedFrameSource frames(config.width, config.height, config.inputFormat, onDevice, useCuda, 1);
    // CUDA for the frame first: without it, a device frame's error says what it was for.
    frames.openDevice();
    BufferRefPtr device = useCuda ? sharedCudaDevice() : BufferRefPtr();
    FramePtr input;
    if (onDevice) {
      input = frames.fromDevice(deviceFrame.pointer, deviceFrame.pitch);
    } else {
      // Borrowed for the length of this call, which holds `pixels`: returned before it ends.
      const auto* data = static_cast<const uint8_t*>(pixels.ArrayBuffer().Data()) + pixels.ByteOffset();
      input = frames.fromHost(std::make_unique<BorrowedPixels>(data, stride, nullptr));
    }
    input->pts = 0;
    LadderFilterGraph graph(config, frames.frameFormat(), device.get());
    graph.push(input.get());
    graph.pushEnd();

    Napi::Array result = Napi::Array::New(env, graph.renditionCount());
    FramePtr scaled = allocFrame();
    FramePtr downloaded = allocFrame();
    for (size_t i = 0; i < graph.renditionCount(); ++i) {
      if (graph.pull(i, scaled.get()) != 1) throw FFmpegError("The filter graph gave no frame for rendition " + config.renditions[i].name);
      const AVFrame* frame = scaled.get();
      if (scaled->format == AV_PIX_FMT_CUDA) {
        // The GPU's frame comes back to system memory in its software format (yuv420p).
        check(av_hwframe_transfer_data(downloaded.get(), scaled.get(), 0),
              "Cannot download the CUDA frame of rendition " + config.renditions[i].name);
        frame = downloaded.get();
      }
      Napi::Object item = Napi::Object::New(env);
      item.Set("name", config.renditions[i].name);
      item.Set("width", frame->width);
      item.Set("height", frame->height);
      item.Set("pixelFormat", av_get_pix_fmt_name(AVPixelFormat(frame->format)));
      item.Set("onGpu", scaled->format == AV_PIX_FMT_CUDA);
      item.Set("data", packPlanes(env, frame));
      result.Set(uint32_t(i), item);
      av_frame_unref(scaled.get());
      av_frame_unref(downloaded.get());
    }
    return result;
  });
}

}  // namespace abrcast
