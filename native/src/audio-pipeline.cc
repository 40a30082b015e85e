#include "audio-pipeline.h"

#include <algorithm>

#include "log-router.h"
#include "thread-start.h"

namespace abrcast {

namespace {
// How far (in AAC packets, ~21 ms each) a file may be decoded ahead of the
// slowest rendition: enough to learn its end well before the video gets there.
constexpr size_t kPacketsAhead = 10 * AacEncoder::kSampleRate / 1024;
}  // namespace

AudioPipeline::AudioPipeline(const EncoderConfig& config, PipelineEvents* events, FailureHandler onFailure)
    : config_(config),
      events_(events),
      onFailure_(std::move(onFailure)),
      encoder_(config.audio.bitrateKbps, [this](PacketPtr packet) { track_.append(std::move(packet)); }),
      track_(int(config.renditions.size()), encoder_.timeBase(), encoder_.firstPts()) {
  if (config.audio.kind == AudioSourceKind::Pcm) av_channel_layout_default(&pcmLayout_, config.audio.pcmChannels);
}

void AudioPipeline::openSource() {
  if (config_.audio.kind != AudioSourceKind::File) return;
  file_ = std::make_unique<StreamDecoder>(config_.audio.source, AVMEDIA_TYPE_AUDIO, &stop_, nullptr, config_.ioTimeoutSeconds, 1);
}

AudioPipeline::~AudioPipeline() {
  abort();
  join();
  av_channel_layout_uninit(&pcmLayout_);
}

void AudioPipeline::start() {
  worker_ = startThread("the audio encoder thread", [this] { run(); });
}

long AudioPipeline::submitPcm(const float* samples, size_t frames) {
  if (stop_.stopRequested() || pcmEnded_) return -1;
  if (pcmQueued_.load() >= maxQueuedSamples(config_)) return kQueueFull;
  std::vector<float> chunk(samples, samples + frames * size_t(config_.audio.pcmChannels));
  const int64_t queued = pcmQueued_.fetch_add(int64_t(frames)) + int64_t(frames);
  if (!pcm_.push(chunk)) {
    pcmQueued_ -= int64_t(frames);
    return -1;
  }
  return long(queued);
}

void AudioPipeline::endInput() {
  pcmEnded_ = true;
  pcm_.close();
}

void AudioPipeline::onVideoProgress(int64_t frames) {
  {
    std::lock_guard<std::mutex> lock(videoMutex_);
    videoFrames_ = frames;
  }
  videoChanged_.notify_all();
}

void AudioPipeline::setVideoEnd(int64_t frames) {
  {
    std::lock_guard<std::mutex> lock(videoMutex_);
    videoFrames_ = frames;
    videoEnd_ = frames;
  }
  videoChanged_.notify_all();
  track_.wake();  // a file decoder waiting for room may now stop early
}

int64_t AudioPipeline::waitProposedEnd() {
  std::unique_lock<std::mutex> lock(videoMutex_);
  videoChanged_.wait(lock, [&] { return stop_.stopRequested() || proposedEnd_ >= 0; });
  return stop_.stopRequested() ? -1 : proposedEnd_;
}

int64_t AudioPipeline::agreeEnd(int64_t possibleEnd) {
  std::unique_lock<std::mutex> lock(videoMutex_);
  possibleEnd = std::min(possibleEnd, proposedEnd_);
  agreedEnd_ = answers_ == 0 ? possibleEnd : std::min(agreedEnd_, possibleEnd);
  if (++answers_ == int(config_.renditions.size())) videoChanged_.notify_all();
  videoChanged_.wait(lock, [&] { return stop_.stopRequested() || answers_ == int(config_.renditions.size()); });
  return stop_.stopRequested() ? -1 : agreedEnd_;
}

void AudioPipeline::abort() {
  {
    std::lock_guard<std::mutex> lock(videoMutex_);
    stop_.requestStop();
  }
  videoChanged_.notify_all();
  pcm_.discard();
  track_.abort();
}

void AudioPipeline::join() {
  if (worker_.joinable()) worker_.join();
}

int64_t AudioPipeline::samplesForFrames(int64_t frames) const {
  return av_rescale_q(frames, config_.timeBase(), encoder_.timeBase());
}

int64_t AudioPipeline::framesForSamples(int64_t samples) const {
  return av_rescale_q_rnd(samples, encoder_.timeBase(), config_.timeBase(), AV_ROUND_DOWN);
}

void AudioPipeline::readFile() {
  FramePtr frame = allocFrame();
  while (!stop_.stopRequested()) {
    // Past the end of a finished video nothing more is needed.
    if (videoEndKnown() && encoder_.samplesQueued() >= samplesForFrames(videoEnd_)) return;
    // Stay a bounded distance ahead of the renditions, not the whole file in memory.
    track_.waitForRoom(kPacketsAhead, [this] { return stop_.stopRequested() || videoEndKnown(); });
    if (stop_.stopRequested() || !file_->next(frame.get())) return;
    encoder_.push(frame.get());
  }
}

void AudioPipeline::readPcm() {
  const int64_t highWater = config_.audio.maxQueuedSamples;
  while (auto chunk = pcm_.pop()) {
    // Encoded audio waits for the slowest rendition's video: stay a bounded distance ahead of it,
    // holding writeAudio() back (through the PCM queue) rather than keeping all of it as AAC.
    track_.waitForRoom(kPacketsAhead, [this] { return stop_.stopRequested() || videoEndKnown(); });
    if (stop_.stopRequested()) return;
    const int64_t frames = int64_t(chunk->size()) / config_.audio.pcmChannels;
    encoder_.pushInterleaved(chunk->data(), int(frames), pcmLayout_, config_.audio.pcmSampleRate);
    const int64_t before = pcmQueued_.fetch_sub(frames);
    if (before > highWater && before - frames <= highWater) events_->onAudioDrain(size_t(before - frames));
  }
}

void AudioPipeline::run() {
  ScopedLogTarget logTarget(events_, "[audio] ");
  try {
    if (file_) readFile();
    else readPcm();
    if (stop_.stopRequested()) return;
    encoder_.endInput();
    const int64_t sourceSamples = encoder_.samplesQueued();

    std::unique_lock<std::mutex> lock(videoMutex_);
    int64_t endFrames = 0;
    if (config_.audio.shortest) {
      const int64_t limit = framesForSamples(sourceSamples);
      frameLimit_ = limit;
      // The end is known once the video reached the limit or ended before it.
      videoChanged_.wait(lock, [&] { return stop_.stopRequested() || videoEndKnown() || videoFrames_ >= limit; });
      endFrames = videoEndKnown() ? std::min(limit, videoEnd_.load()) : limit;
    } else {
      // Silence follows the video as it arrives, so the renditions keep cutting segments.
      for (;;) {
        if (stop_.stopRequested()) break;
        const bool ended = videoEndKnown();
        const int64_t frames = videoFrames_;
        lock.unlock();
        encoder_.padTo(samplesForFrames(frames));
        lock.lock();
        if (ended) {
          endFrames = frames;
          break;
        }
        videoChanged_.wait(lock, [&] { return stop_.stopRequested() || videoEndKnown() || videoFrames_ != frames; });
      }
    }
    if (stop_.stopRequested()) return;
    // Every rendition answers with where it can end exactly; the audio ends there too.
    proposedEnd_ = endFrames;
    videoChanged_.notify_all();
    videoChanged_.wait(lock, [&] { return stop_.stopRequested() || answers_ == int(config_.renditions.size()); });
    if (stop_.stopRequested()) return;
    endFrames = agreedEnd_;
    lock.unlock();
    outputFrames_ = endFrames;
    outputSamples_ = samplesForFrames(endFrames);
    encoder_.finish(outputSamples_);
    track_.finish();
  } catch (const std::exception& error) {
    onFailure_(error.what());
  }
}

}  // namespace abrcast
