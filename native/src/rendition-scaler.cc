#include "rendition-scaler.h"

#include <algorithm>

extern "C" {
#include <libswscale/swscale.h>
}

#include "ladder-yuv-frame.h"
#include "thread-start.h"
#include "yuv-convert.h"

namespace abrcast {

ParallelTasks::ParallelTasks(size_t helpers) {
  threads_.reserve(helpers);  // so push_back cannot throw with a started thread in hand
  try {
    for (size_t i = 0; i < helpers; ++i) threads_.push_back(startThread("a scaler thread", [this] { helperLoop(); }));
  } catch (...) {
    stop();  // the helpers already started: a joinable std::thread destroyed would terminate the process
    throw;
  }
}

ParallelTasks::~ParallelTasks() { stop(); }

void ParallelTasks::stop() {
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

// The rendition a rendition is scaled from: the smallest other one at least twice its size in both
// directions (scaled first, in an earlier stage), else the converted frame (-1). Measured on 1080p
// bench frames against ffmpeg's lanczos+accurate_rnd one-step reference: 360p from the 720p
// rendition is as close as 360p from 1080p (PSNR-Y lanczos 55.4 vs 54.0 dB, spline 52.5 vs 50.3,
// bicubic 47.3 vs 47.1) at 0.6 of lanczos's cost; the 2x margin keeps the intermediate's own
// filter well above the final cutoff. The cheap filters stay one step: cascaded, bilinear lost
// 1.7 dB, and area or fast_bilinear would no longer be ffmpeg's picture for that algorithm.
int cascadeSource(const EncoderConfig& config, size_t index) {
  const std::string& flags = config.scaleFlags;
  if (flags != "lanczos" && flags != "spline" && flags != "bicubic") return -1;
  const RenditionConfig& r = config.renditions[index];
  int best = -1;
  for (size_t j = 0; j < config.renditions.size(); ++j) {
    const RenditionConfig& c = config.renditions[j];
    const bool twice = c.width >= 2 * r.width && c.height >= 2 * r.height;
    const bool belowSource = c.width < config.width || c.height < config.height;
    if (j == index || !twice || !belowSource) continue;
    if (best < 0 || int64_t(c.width) * c.height < int64_t(config.renditions[best].width) * config.renditions[best].height) {
      best = int(j);
    }
  }
  return best;
}

}  // namespace

bool RenditionScaler::accepts(const EncoderConfig& config, AVPixelFormat format, int width, int height) {
  const int extraWidth = width - config.width;
  const int extraHeight = height - config.height;
  return isPackedRgb(format) && extraWidth >= 0 && extraWidth <= 1 && extraHeight >= 0 && extraHeight <= 1;
}

RenditionScaler::RenditionScaler(const EncoderConfig& config) : config_(config), tasks_(size_t(config.threads.scalerThreads)) {
  pools_.push_back(ladderYuvPool(config.width, config.height));
  lanczos_.resize(config.renditions.size());
  for (size_t i = 0; i < config.renditions.size(); ++i) {
    const RenditionConfig& r = config.renditions[i];
    pools_.push_back(ladderYuvPool(r.width, r.height));
    SwsContextPtr scaler;
    const int source = cascadeSource(config, i);
    sources_.push_back(source);
    const int srcW = source < 0 ? config.width : config.renditions[size_t(source)].width;
    const int srcH = source < 0 ? config.height : config.renditions[size_t(source)].height;
    const bool resized = r.width != config.width || r.height != config.height;
    if (resized && config.scaleFlags == "lanczos" && LanczosPlaneScaler::fast() &&
        LanczosPlaneScaler::handles(srcW, srcH, r.width, r.height) &&
        LanczosPlaneScaler::handles((srcW + 1) / 2, (srcH + 1) / 2, (r.width + 1) / 2, (r.height + 1) / 2)) {
      addLanczos(i, srcW, srcH);
    } else if (resized) {
      scaler.reset(sws_alloc_context());
      if (!scaler) throw std::bad_alloc();
      SwsContext* s = scaler.get();
      av_opt_set_int(s, "srcw", source < 0 ? config.width : config.renditions[source].width, 0);
      av_opt_set_int(s, "srch", source < 0 ? config.height : config.renditions[source].height, 0);
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
  // Stage k holds the renditions k cascade steps from the converted frame.
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (!scalers_[i] && lanczos_[i].empty()) continue;
    size_t stage = 0;
    for (int s = sources_[i]; s >= 0; s = sources_[size_t(s)]) ++stage;
    if (stages_.size() <= stage) stages_.resize(stage + 1);
    stages_[stage].push_back(i);
  }
}

void RenditionScaler::addLanczos(size_t rendition, int srcW, int srcH) {
  const RenditionConfig& r = config_.renditions[rendition];
  // The luma plane in as many bands as there are threads (up to 4, each 32 rows or more), each
  // chroma plane in one: all run in parallel, with the other renditions of their stage.
  const int lumaBands = std::clamp(std::min(config_.threads.scalerThreads + 1, r.height / 32), 1, 4);
  for (int plane = 0; plane < 3; ++plane) {
    const int shift = plane == 0 ? 0 : 1;
    auto scaler = std::make_unique<LanczosPlaneScaler>((srcW + shift) >> shift, (srcH + shift) >> shift,
                                                       (r.width + shift) >> shift, (r.height + shift) >> shift);
    const int height = (r.height + shift) >> shift;
    const int bands = plane == 0 ? lumaBands : 1;
    for (int band = 0; band < bands; ++band) {
      lanczosBands_.push_back(LanczosBand{rendition, plane, height * band / bands, height * (band + 1) / bands,
                                          std::vector<int16_t>(scaler->scratchSize()), nullptr, nullptr});
    }
    lanczos_[rendition].push_back(std::move(scaler));
  }
}

FramePtr RenditionScaler::pooledFrame(size_t pool, int width, int height) {
  return ladderYuvFrame(pools_[pool].get(), width, height);
}

void RenditionScaler::process(AVFrame* input, std::vector<FramePtr>& out) {
  FramePtr yuv = pooledFrame(0, config_.width, config_.height);
  yuv->pts = input->pts;
  convert(input, yuv.get());
  av_frame_unref(input);
  scale(yuv.get(), out);
}

void RenditionScaler::convert(const AVFrame* input, AVFrame* yuv) {
  const int width = config_.width;
  const int height = config_.height;
  const int bands = config_.threads.conversionBands;  // row bands, each an even number of rows
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
}

void RenditionScaler::scale(const AVFrame* yuv, std::vector<FramePtr>& out) {
  out.resize(config_.renditions.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!scalers_[i] && lanczos_[i].empty()) {
      out[i] = allocFrame();
      check(av_frame_ref(out[i].get(), yuv), "Cannot reference the converted frame");
      continue;
    }
    const RenditionConfig& r = config_.renditions[i];
    out[i] = pooledFrame(1 + i, r.width, r.height);
    out[i]->pts = yuv->pts;
  }
  for (const std::vector<size_t>& stage : stages_) {
    batch_.clear();
    for (size_t i : stage) {
      const AVFrame* from = sources_[i] < 0 ? yuv : out[size_t(sources_[i])].get();
      if (!lanczos_[i].empty()) {
        for (LanczosBand& band : lanczosBands_) {
          if (band.rendition != i) continue;
          band.from = from;
          band.to = out[i].get();
          // Two pointers: small enough for std::function to hold without allocating.
          batch_.emplace_back([this, b = &band] {
            const int p = b->plane;
            lanczos_[b->rendition][size_t(p)]->scale(b->from->data[p], b->from->linesize[p], b->to->data[p],
                                                     b->to->linesize[p], b->top, b->bottom, b->scratch.data());
          });
        }
        continue;
      }
      batch_.emplace_back([&, i] {
        const AVFrame* from = sources_[i] < 0 ? yuv : out[size_t(sources_[i])].get();
        const int rows = sws_scale(scalers_[i].get(), from->data, from->linesize, 0, from->height, out[i]->data,
                                   out[i]->linesize);
        if (rows != out[i]->height) throw FFmpegError("Cannot scale the frame for rendition " + config_.renditions[i].name);
      });
    }
    tasks_.run(batch_);
  }
}

}  // namespace abrcast
