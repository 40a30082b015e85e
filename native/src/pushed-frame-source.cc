#include "pushed-frame-source.h"

namespace abrcast {

namespace {

// av_buffer_create's free callback for a borrowed frame: returns the pixels to the caller.
void returnPixels(void* opaque, uint8_t*) { delete static_cast<BorrowedPixels*>(opaque); }

}  // namespace

PushedFrameSource::PushedFrameSource(int width, int height, AVPixelFormat format, bool deviceFrames, bool onGpu,
                                     int rowAlignment)
    : width_(width), height_(height), format_(format), deviceFrames_(deviceFrames), onGpu_(onGpu) {
  // No pool where nothing is copied: host frames for the CPU graph are borrowed, device frames for
  // the GPU graph go to the importer's CUDA frames.
  if (deviceFrames_ == onGpu_) return;
  // One pooled buffer per frame in flight, with FFmpeg's input padding so SIMD readers may
  // overread the last row.
  linesize_ = FFALIGN(width_ * bytesPerPixel(format_), rowAlignment);
  pool_.reset(av_buffer_pool_init(size_t(linesize_) * size_t(height_) + AV_INPUT_BUFFER_PADDING_SIZE, nullptr));
  if (!pool_) throw std::bad_alloc();
}

void PushedFrameSource::openDevice() {
  if (deviceFrames_ && !importer_) importer_ = std::make_unique<CudaFrameImporter>(width_, height_, format_);
}

VideoFrameFormat PushedFrameSource::frameFormat() {
  if (deviceFrames_ && onGpu_) {
    // Converted on the GPU into pooled CUDA frames: nothing of the picture in host memory.
    if (!importer_) throw FFmpegError("CUDA frames need openDevice() first");
    return VideoFrameFormat{width_, height_, AV_PIX_FMT_CUDA, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, importer_->framesContext()};
  }
  return VideoFrameFormat{width_, height_, format_, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_JPEG};
}

void PushedFrameSource::describe(AVFrame* frame) const {
  frame->width = width_;
  frame->height = height_;
  frame->format = format_;
  frame->color_range = AVCOL_RANGE_JPEG;
}

FramePtr PushedFrameSource::pooledFrame() {
  FramePtr frame = allocFrame();
  frame->buf[0] = av_buffer_pool_get(pool_.get());
  if (!frame->buf[0]) throw std::bad_alloc();
  frame->data[0] = frame->buf[0]->data;
  frame->linesize[0] = linesize_;
  describe(frame.get());
  return frame;
}

FramePtr PushedFrameSource::fromHost(std::unique_ptr<BorrowedPixels> pixels) {
  if (onGpu_) {
    FramePtr frame = pooledFrame();
    av_image_copy_plane(frame->data[0], frame->linesize[0], pixels->pixels(), int(pixels->stride()), int(pixels->stride()),
                        height_);
    return frame;  // `pixels` returned here: copied
  }
  FramePtr frame = allocFrame();
  uint8_t* data = const_cast<uint8_t*>(pixels->pixels());  // read-only buffer: nothing writes through it
  frame->buf[0] = av_buffer_create(data, pixels->stride() * size_t(height_), &returnPixels, pixels.get(), AV_BUFFER_FLAG_READONLY);
  if (!frame->buf[0]) throw std::bad_alloc();  // `pixels` still ours: returned as it goes
  frame->data[0] = data;
  frame->linesize[0] = int(pixels->stride());
  pixels.release();  // the buffer's now: returned by returnPixels
  describe(frame.get());
  return frame;
}

FramePtr PushedFrameSource::fromDevice(uint64_t devicePtr, size_t pitch) {
  if (!importer_) throw FFmpegError("CUDA frames need openDevice() first");
  if (onGpu_) return importer_->convert(devicePtr, pitch);
  FramePtr frame = pooledFrame();
  importer_->download(devicePtr, pitch, frame->data[0], frame->linesize[0]);
  return frame;
}

}  // namespace abrcast
