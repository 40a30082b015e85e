#include "rendition-scaler.h"

#include <algorithm>

extern "C" {
#include <libswscale/swscale.h>
}

#include "yuv-convert.h"

namespace abrcast {

ParallelTasks::ParallelTasks(size_t helpers) {
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this] { helperLoop(); });
}

ParallelTasks::~ParallelTasks() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void ParallelTasks::work(std::unique_lock<std::mutex>& lock) {
  while (tasks_ && next_ < tasks_->size()) {
    const std::function<void()>& task = (*tasks_)[next_++];
    lock.unlock();
    std::string error;
    try {
      task();
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (!error.empty() && error_.empty()) error_ = error;
    if (++finished_ == tasks_->size()) done_.notify_all();
  }
}

void ParallelTasks::helperLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  size_t seen = generation_;
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    work(lock);
  }
}

void ParallelTasks::run(const std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  std::unique_lock<std::mutex> lock(mutex_);
  tasks_ = &tasks;
  next_ = 0;
  finished_ = 0;
  error_.clear();
  ++generation_;
  if (tasks.size() > 1) wake_.notify_all();
  work(lock);
  done_.wait(lock, [&] { return finished_ == tasks.size(); });
  tasks_ = nullptr;
  if (!error_.empty()) throw FFmpegError(error_);
}

void SwsContextDeleter::operator()(SwsContext* context) const { sws_freeContext(context); }

namespace {

int lumaPitch(int width) { return FFALIGN(width, 64); }
int chromaPitch(int width) { return FFALIGN((width + 1) / 2, 64); }

size_t yuvBytes(int width, int height) {
  // + FFmpeg's input padding: SIMD readers (swscale, x264) may read a little past the last row.
  return size_t(lumaPitch(width)) * height + 2 * size_t(chromaPitch(width)) * ((height + 1) / 2) +
         AV_INPUT_BUFFER_PADDING_SIZE;
}

// Row bands for the conversion: one per core, at most 4, each an even number of rows.
int conversionBands(int height) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1, std::min({int(cores), 4, height / 16}));
}

size_t helperThreads(const EncoderConfig& config) {
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t widest = std::max(size_t(conversionBands(config.height)), config.renditions.size());
  return std::min(cores, widest) - 1;
}

}  // namespace

bool RenditionScaler::accepts(const EncoderConfig& config, AVPixelFormat format, int width, int height) {
  const int extraWidth = width - config.width;
  const int extraHeight = height - config.height;
  return isPackedRgb(format) && extraWidth >= 0 && extraWidth <= 1 && extraHeight >= 0 && extraHeight <= 1;
}

RenditionScaler::RenditionScaler(const EncoderConfig& config) : config_(config), tasks_(helperThreads(config)) {
  pools_.emplace_back(av_buffer_pool_init(yuvBytes(config.width, config.height), nullptr));
  for (const RenditionConfig& r : config.renditions) {
    pools_.emplace_back(av_buffer_pool_init(yuvBytes(r.width, r.height), nullptr));
    SwsContextPtr scaler;
    if (r.width != config.width || r.height != config.height) {
      scaler.reset(sws_alloc_context());
      if (!scaler) throw std::bad_alloc();
      SwsContext* s = scaler.get();
      av_opt_set_int(s, "srcw", config.width, 0);
      av_opt_set_int(s, "srch", config.height, 0);
      av_opt_set_int(s, "src_format", AV_PIX_FMT_YUV420P, 0);
      av_opt_set_int(s, "dstw", r.width, 0);
      av_opt_set_int(s, "dsth", r.height, 0);
      av_opt_set_int(s, "dst_format", AV_PIX_FMT_YUV420P, 0);
      check(av_opt_set(s, "sws_flags", config.scaleFlags.c_str(), 0),
            "Cannot use scaleAlgorithm " + config.scaleFlags + " for rendition " + r.name);
      check(sws_init_context(s, nullptr, nullptr), "Cannot create the scaler for rendition " + r.name);
    }
    scalers_.push_back(std::move(scaler));
  }
  for (const BufferPoolPtr& pool : pools_) {
    if (!pool) throw std::bad_alloc();
  }
}

FramePtr RenditionScaler::pooledFrame(size_t pool, int width, int height) {
  FramePtr frame = allocFrame();
  frame->buf[0] = av_buffer_pool_get(pools_[pool].get());
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

void RenditionScaler::process(const AVFrame* input, std::vector<FramePtr>& out) {
  const int width = config_.width;
  const int height = config_.height;
  FramePtr yuv = pooledFrame(0, width, height);
  yuv->pts = input->pts;

  const int bands = conversionBands(height);
  batch_.clear();
  for (int band = 0; band < bands; ++band) {
    const int top = (height * band / bands) & ~1;
    const int bottom = band + 1 == bands ? height : (height * (band + 1) / bands) & ~1;
    batch_.emplace_back([&, top, bottom] {
      convertRgbToYuv420(input->data[0], input->linesize[0], AVPixelFormat(input->format), width, height, yuv->data,
                         yuv->linesize, top, bottom);
    });
  }
  tasks_.run(batch_);

  out.resize(config_.renditions.size());
  batch_.clear();
  for (size_t i = 0; i < out.size(); ++i) {
    if (!scalers_[i]) {
      out[i] = allocFrame();
      check(av_frame_ref(out[i].get(), yuv.get()), "Cannot reference the converted frame");
      continue;
    }
    const RenditionConfig& r = config_.renditions[i];
    out[i] = pooledFrame(1 + i, r.width, r.height);
    out[i]->pts = input->pts;
    batch_.emplace_back([&, i] {
      const int rows = sws_scale(scalers_[i].get(), yuv->data, yuv->linesize, 0, height, out[i]->data, out[i]->linesize);
      if (rows != out[i]->height) throw FFmpegError("Cannot scale the frame for rendition " + config_.renditions[i].name);
    });
  }
  tasks_.run(batch_);
}

}  // namespace abrcast
