#include "pushed-frame-source.h"

#include "ladder-yuv-frame.h"
#include "yuv-convert.h"

namespace abrcast {

PushedFrameSource::PushedFrameSource(int width, int height, AVPixelFormat format, bool deviceFrames, bool onGpu,
                                     int rowAlignment)
    : width_(width),
      height_(height),
      format_(format),
      deviceFrames_(deviceFrames),
      onGpu_(onGpu),
      convertsToYuv_(!deviceFrames && !onGpu && isPackedRgb(format)) {
  if (deviceFrames_ && onGpu_) return;  // converted into the importer's CUDA frames
  if (convertsToYuv_) {
    pool_ = ladderYuvPool(width_, height_);
    return;
  }
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
  if (!pool_) {
    // Converted on the GPU into pooled CUDA frames: nothing of the picture in host memory.
    if (!importer_) throw FFmpegError("CUDA frames need openDevice() first");
    return VideoFrameFormat{width_, height_, AV_PIX_FMT_CUDA, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, importer_->framesContext()};
  }
  if (convertsToYuv_) return VideoFrameFormat{width_, height_, AV_PIX_FMT_YUV420P, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG, nullptr, true};
  return VideoFrameFormat{width_, height_, format_, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_JPEG};
}

FramePtr PushedFrameSource::pooledFrame() {
  FramePtr frame = allocFrame();
  frame->buf[0] = av_buffer_pool_get(pool_.get());
  if (!frame->buf[0]) throw std::bad_alloc();
  frame->data[0] = frame->buf[0]->data;
  frame->linesize[0] = linesize_;
  frame->width = width_;
  frame->height = height_;
  frame->format = format_;
  frame->color_range = AVCOL_RANGE_JPEG;
  return frame;
}

FramePtr PushedFrameSource::fromHost(const uint8_t* pixels, size_t stride) {
  if (convertsToYuv_) {
    FramePtr frame = ladderYuvFrame(pool_.get(), width_, height_);
    convertRgbToYuv420(pixels, int(stride), format_, width_, height_, frame->data, frame->linesize);
    return frame;
  }
  FramePtr frame = pooledFrame();
  av_image_copy_plane(frame->data[0], frame->linesize[0], pixels, int(stride), int(stride), height_);
  return frame;
}

FramePtr PushedFrameSource::fromDevice(uint64_t devicePtr, size_t pitch) {
  if (!importer_) throw FFmpegError("CUDA frames need openDevice() first");
  if (!pool_) return importer_->convert(devicePtr, pitch);
  FramePtr frame = pooledFrame();
  importer_->download(devicePtr, pitch, frame->data[0], frame->linesize[0]);
  return frame;
}

}  // namespace abrcast
