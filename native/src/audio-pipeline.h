// The audio half of the encoder: one thread that decodes a file (or takes the
// PCM written from JS), resamples, encodes AAC once and appends the packets to
// the AudioTrack every rendition muxes from.
//
// Length rule (AudioConfig::shortest, default true): the output lasts as long
// as the shorter input, in whole video frames. When the audio ends first, video
// frames from floor(audioSeconds * fps) on are dropped and the audio is cut at
// the end of the last frame kept; when the video ends first (close()), the
// audio is cut at the end of the last video frame. With shortest=false the
// video decides alone: audio is cut at its end, or padded with silence up to
// it (the silence follows the video as it is written, so segments keep coming).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aac-encoder.h"
#include "audio-track.h"
#include "bounded-queue.h"
#include "config.h"
#include "pipeline-events.h"
#include "stream-decoder.h"
#include "stop-token.h"

namespace abrcast {

class AudioPipeline {
 public:
  using FailureHandler = std::function<void(const std::string&)>;
  static constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

  // Opens the encoder (cheap: PCM can be queued at once); throws FFmpegError when it fails.
  AudioPipeline(const EncoderConfig& config, PipelineEvents* events, FailureHandler onFailure);
  // A file source: opens it, up to its first decoded frame (blocking I/O, so not on the JS
  // thread); throws FFmpegError naming the source. abort() interrupts it.
  void openSource();
  ~AudioPipeline();
  AudioPipeline(const AudioPipeline&) = delete;
  AudioPipeline& operator=(const AudioPipeline&) = delete;

  const AVCodecContext* encoderContext() const { return encoder_.context(); }
  AudioTrack& track() { return track_; }

  void start();
  // JS thread: copies interleaved float32 PCM; returns the sample frames now
  // queued, -1 when no more audio is taken, or kQueueFull when maxQueuedSamples(config) already
  // wait (the caller does not await writeAudio()).
  static constexpr long kQueueFull = -2;
  static int64_t maxQueuedSamples(const EncoderConfig& config) { return int64_t(config.audio.maxQueuedSamples) * 4; }
  long submitPcm(const float* samples, size_t frames);
  // No more PCM (close()).
  void endInput();
  // Graph thread: `frames` video frames have been taken in so far / in all.
  void onVideoProgress(int64_t frames);
  void setVideoEnd(int64_t frames);
  // Video frames with pts at or past this are dropped (shortest); kNoLimit until the audio has ended.
  int64_t videoFrameLimit() const { return frameLimit_.load(); }
  void abort();
  void join();
  // Samples per channel (48 kHz) the output carries; valid after join().
  int64_t outputSamples() const { return outputSamples_; }
  // Video frames the output carries (the agreed end); valid after join().
  int64_t outputFrames() const { return outputFrames_; }

  // The exact end, agreed with the renditions. Once the audio source ended and the video's end
  // is known, the audio thread proposes an end (in video frames). Each rendition, its encoder
  // flushed, answers with the largest frame count at or below it that it can end on exactly: the
  // encoded frames shown before it must be a decode-order prefix, since an x264 B-frame shown
  // before the proposed end may reference a P-frame after it. The smallest answer is the end of
  // the video and of the audio alike. Both return -1 when aborted.
  int64_t waitProposedEnd();
  int64_t agreeEnd(int64_t possibleEnd);

 private:
  void run();
  void readFile();
  void readPcm();
  int64_t samplesForFrames(int64_t frames) const;
  int64_t framesForSamples(int64_t samples) const;
  bool videoEndKnown() const { return videoEnd_.load() >= 0; }

  const EncoderConfig& config_;
  PipelineEvents* events_;
  FailureHandler onFailure_;
  StopToken stop_;
  std::unique_ptr<StreamDecoder> file_;
  AVChannelLayout pcmLayout_{};
  AacEncoder encoder_;
  AudioTrack track_;
  BoundedQueue<std::vector<float>> pcm_;  // unbounded: backpressure is the caller's, through onAudioDrain
  std::atomic<int64_t> pcmQueued_{0};
  std::atomic<bool> pcmEnded_{false};

  std::mutex videoMutex_;
  std::condition_variable videoChanged_;
  std::atomic<int64_t> videoFrames_{0};
  std::atomic<int64_t> videoEnd_{-1};
  std::atomic<int64_t> frameLimit_{kNoLimit};
  int64_t outputSamples_ = 0;
  int64_t outputFrames_ = 0;
  int64_t proposedEnd_ = -1;  // under videoMutex_, as are the two below
  int answers_ = 0;
  int64_t agreedEnd_ = -1;
  std::thread worker_;
};

}  // namespace abrcast
