#include "ladder-yuv-frame.h"

namespace abrcast {

namespace {

int lumaPitch(int width) { return FFALIGN(width, 64); }
int chromaPitch(int width) { return FFALIGN((width + 1) / 2, 64); }

}  // namespace

BufferPoolPtr ladderYuvPool(int width, int height) {
  // + FFmpeg's input padding: SIMD readers (swscale, x264) may read a little past the last row.
  const size_t bytes = size_t(lumaPitch(width)) * height + 2 * size_t(chromaPitch(width)) * ((height + 1) / 2) +
                       AV_INPUT_BUFFER_PADDING_SIZE;
  BufferPoolPtr pool(av_buffer_pool_init(bytes, nullptr));
  if (!pool) throw std::bad_alloc();
  return pool;
}

FramePtr ladderYuvFrame(AVBufferPool* pool, int width, int height) {
  FramePtr frame = allocFrame();
  frame->buf[0] = av_buffer_pool_get(pool);
  if (!frame->buf[0]) throw std::bad_alloc();
  frame->width = width;
  frame->height = height;
  frame->format = AV_PIX_FMT_YUV420P;
  frame->linesize[0] = lumaPitch(width);
  frame->linesize[1] = frame->linesize[2] = chromaPitch(width);
  frame->data[0] = frame->buf[0]->data;
  frame->data[1] = frame->data[0] + size_t(frame->linesize[0]) * height;
  frame->data[2] = frame->data[1] + size_t(frame->linesize[1]) * ((height + 1) / 2);
  // What the encoders are tagged with (rendition-encoder.cc).
  frame->colorspace = AVCOL_SPC_BT709;
  frame->color_primaries = AVCOL_PRI_BT709;
  frame->color_trc = AVCOL_TRC_BT709;
  frame->color_range = AVCOL_RANGE_MPEG;
  frame->sample_aspect_ratio = AVRational{1, 1};
  return frame;
}

}  // namespace abrcast
