#include "ladder-pipeline.h"

#include <algorithm>

#include "cuda-driver.h"
#include "log-router.h"

namespace abrcast {

namespace {

int bytesPerPixel(AVPixelFormat format) {
  return av_get_padded_bits_per_pixel(av_pix_fmt_desc_get(format)) / 8;
}

}  // namespace

LadderPipeline::LadderPipeline(EncoderConfig config, PipelineEvents* events)
    : config_(std::move(config)),
      events_(events),
      input_(config_.fromFile() ? size_t(config_.maxFramesInFlight) : 0),
      scaled_(allocFrame()) {
  installLogRouter();
  // Warnings raised while opening go to this pipeline too.
  ScopedLogTarget logTarget(events_, "");

  if (config_.encoder == EncoderKind::Nvenc) {
    cudaDevice_ = sharedCudaDevice();
  }

  VideoFrameFormat source;
  if (config_.fromFile()) {
    // Opens the input and decodes its first frame: a bad path fails here, named.
    file_ = std::make_unique<VideoFileSource>(config_, events_);
    source = file_->frameFormat();
  } else if (config_.cudaFrames && config_.encoder == EncoderKind::Nvenc) {
    // Converted on the GPU into pooled CUDA frames: nothing of the picture in host memory.
    cudaFrames_ = std::make_unique<CudaFrameImporter>(config_.width, config_.height, config_.inputFormat);
    source = VideoFrameFormat{config_.width, config_.height, AV_PIX_FMT_CUDA, AVCOL_SPC_BT709, AVCOL_RANGE_MPEG,
                              cudaFrames_->framesContext()};
  } else {
    // Device frames for x264 are copied into the same pooled frames as Buffers.
    if (config_.cudaFrames) {
      cudaFrames_ = std::make_unique<CudaFrameImporter>(config_.width, config_.height, config_.inputFormat);
    }
    // Rows aligned for SIMD; one pooled buffer per frame in flight, with FFmpeg's input padding so
    // SIMD readers may overread the last row.
    frameLinesize_ = FFALIGN(config_.width * bytesPerPixel(config_.inputFormat), 64);
    framePool_.reset(av_buffer_pool_init(size_t(frameLinesize_) * config_.height + AV_INPUT_BUFFER_PADDING_SIZE, nullptr));
    if (!framePool_) throw std::bad_alloc();
    source = VideoFrameFormat{config_.width, config_.height, config_.inputFormat, AVCOL_SPC_UNSPECIFIED, AVCOL_RANGE_JPEG};
  }

  // The audio source opens before the encoders: a bad path is a likely mistake and cheap to find.
  if (config_.audio.enabled()) {
    audio_ = std::make_unique<AudioPipeline>(config_, events_, [this](const std::string& message) { fail(message); });
  }
  graph_ = std::make_unique<LadderFilterGraph>(config_, source, cudaDevice_.get());
  for (size_t i = 0; i < config_.renditions.size(); ++i) {
    renditions_.push_back(std::make_unique<RenditionEncoder>(int(i), config_, graph_->sink(i), audio_.get(), events_,
                                                             [this](const std::string& message) { fail(message); }));
  }
  for (auto& rendition : renditions_) rendition->start();
  if (audio_) audio_->start();
  graphThread_ = std::thread([this] { runGraph(); });
}

LadderPipeline::~LadderPipeline() {
  abort();
  join();
}

FramePtr LadderPipeline::pooledRgbFrame() {
  FramePtr frame = allocFrame();
  frame->buf[0] = av_buffer_pool_get(framePool_.get());
  if (!frame->buf[0]) throw std::bad_alloc();
  frame->data[0] = frame->buf[0]->data;
  frame->linesize[0] = frameLinesize_;
  frame->width = config_.width;
  frame->height = config_.height;
  frame->format = config_.inputFormat;
  frame->color_range = AVCOL_RANGE_JPEG;
  return frame;
}

long LadderPipeline::queue(FramePtr& frame) {
  if (!input_.push(frame)) return -1;
  return long(input_.size());
}

long LadderPipeline::submit(const uint8_t* pixels, size_t stride) {
  if (failed_ || inputEnded_ || file_ || !framePool_) return -1;
  FramePtr frame = pooledRgbFrame();
  // The one copy of the frame: from the JS buffer into the pooled AVFrame.
  av_image_copy_plane(frame->data[0], frame->linesize[0], pixels, int(stride), int(stride), config_.height);
  return queue(frame);
}

long LadderPipeline::submitCuda(uint64_t devicePtr, size_t pitch) {
  if (failed_ || inputEnded_ || !cudaFrames_) return -1;
  if (!framePool_) {
    FramePtr frame = cudaFrames_->convert(devicePtr, pitch);
    return queue(frame);
  }
  FramePtr frame = pooledRgbFrame();
  cudaFrames_->download(devicePtr, pitch, frame->data[0], frame->linesize[0]);
  return queue(frame);
}

long LadderPipeline::submitAudio(const float* samples, size_t frames) {
  if (failed_ || inputEnded_ || !audio_) return -1;
  return audio_->submitPcm(samples, frames);
}

void LadderPipeline::startInput() {
  if (!file_ || inputEnded_) return;
  file_->start([this](FramePtr& frame) { return input_.push(frame); },
               [this](const std::string& message) { fail(message); },
               [this] { input_.close(); });
}

void LadderPipeline::endInput() {
  inputEnded_ = true;
  if (file_) file_->stop();
  input_.close();
  if (audio_) audio_->endInput();
}

void LadderPipeline::abort() {
  inputEnded_ = true;
  failed_ = true;
  if (file_) file_->stop();
  input_.discard();
  if (audio_) audio_->abort();
  for (auto& rendition : renditions_) rendition->abort();
}

void LadderPipeline::join() {
  if (file_) file_->join();
  if (graphThread_.joinable()) graphThread_.join();
}

void LadderPipeline::fail(const std::string& message) {
  std::call_once(failOnce_, [&] {
    failed_ = true;
    events_->onError(message);
    if (file_) file_->stop();
    input_.discard();
    if (audio_) audio_->abort();
    for (auto& rendition : renditions_) rendition->abort();
  });
}

void LadderPipeline::drainGraph() {
  for (size_t i = 0; i < renditions_.size(); ++i) {
    for (;;) {
      const int pulled = graph_->pull(i, scaled_.get());
      if (pulled <= 0) break;
      FramePtr frame(av_frame_alloc());
      if (!frame) throw std::bad_alloc();
      av_frame_move_ref(frame.get(), scaled_.get());
      if (!renditions_[i]->push(frame)) return;  // that encoder stopped: a failure is on its way
    }
  }
}

void LadderPipeline::warnShortestOnce() {
  if (warnedShortest_) return;
  warnedShortest_ = true;
  const int64_t limit = audio_->videoFrameLimit();
  events_->onWarning("The audio ended after " + std::to_string(limit) + " video frames (" +
                     std::to_string(av_q2d(config_.timeBase()) * double(limit)) +
                     " s); later frames are dropped (audio.shortest)");
}

void LadderPipeline::reportProgress() {
  // A few times a second is plenty for a progress bar, and cheap for the JS thread.
  const auto now = std::chrono::steady_clock::now();
  if (now - lastProgress_ < std::chrono::milliseconds(200)) return;
  lastProgress_ = now;
  events_->onProgress(framesIn_);
}

void LadderPipeline::runGraph() {
  ScopedLogTarget logTarget(events_, "[filter graph] ");
  try {
    size_t queuedAfter = 0;
    while (auto frame = input_.pop(&queuedAfter)) {
      if (failed_) break;
      if (!file_ && queuedAfter == size_t(config_.maxFramesInFlight)) events_->onDrain(queuedAfter);
      (*frame)->pts = framesIn_++;
      if (audio_) {
        audio_->onVideoProgress(framesIn_);
        if ((*frame)->pts >= audio_->videoFrameLimit()) {
          warnShortestOnce();
          if (file_) file_->stop();  // no need to decode what would be dropped
          continue;  // shortest: the audio has ended, so has the output
        }
      }
      graph_->push(frame->get());
      drainGraph();
      if (file_) reportProgress();
    }
    if (!failed_) {
      graph_->pushEnd();
      drainGraph();
    }
  } catch (const std::exception& error) {
    fail(error.what());
  }
  if (audio_) audio_->setVideoEnd(framesIn_);
  for (auto& rendition : renditions_) rendition->endInput();
  PipelineSummary summary;
  summary.frames = framesIn_;
  for (auto& rendition : renditions_) {
    rendition->join();
    summary.renditions.push_back(rendition->totals());
  }
  if (audio_) {
    audio_->join();
    summary.frames = std::min(framesIn_, audio_->videoFrameLimit());
    summary.audioSamples = audio_->outputSamples();
  }
  events_->onFinished(std::move(summary), failed_);
}

}  // namespace abrcast
