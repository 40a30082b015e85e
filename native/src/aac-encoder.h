// Resamples any audio to 48 kHz stereo float planar with libswresample and
// encodes it once with FFmpeg's native AAC-LC encoder, 1024 samples a frame.
// Timestamps are the running sample count: never the input's, never the clock.
#pragma once

#include <cstdint>
#include <functional>

#include "ffmpeg.h"

namespace abrcast {

class AacEncoder {
 public:
  static constexpr int kSampleRate = 48000;
  static constexpr int kChannels = 2;
  static constexpr const char* kCodecString = "mp4a.40.2";  // AAC-LC

  using PacketSink = std::function<void(PacketPtr)>;

  AacEncoder(int bitrateKbps, PacketSink sink);
  ~AacEncoder() { av_channel_layout_uninit(&inputLayout_); }
  AacEncoder(const AacEncoder&) = delete;
  AacEncoder& operator=(const AacEncoder&) = delete;

  const AVCodecContext* context() const { return codec_.get(); }
  AVRational timeBase() const { return AVRational{1, kSampleRate}; }
  // pts of the first packet: negative by the encoder's priming samples.
  int64_t firstPts() const { return -int64_t(codec_->initial_padding); }

  // Queues decoded samples of any format, layout and rate; encodes every whole frame.
  void push(const AVFrame* frame);
  // Interleaved float32, `frames` sample frames of `layout` at `sampleRate`.
  void pushInterleaved(const float* samples, int frames, const AVChannelLayout& layout, int sampleRate);
  // Drains the resampler's delay into the queue.
  void endInput();
  // Queues silence until `samplesQueued()` reaches `total`.
  void padTo(int64_t total);
  // Encodes the queue up to `total` samples in all (dropping the rest) and flushes the encoder.
  void finish(int64_t total);

  // Output samples (48 kHz, per channel) queued so far, encoded or not.
  int64_t samplesQueued() const { return samplesQueued_; }
  int64_t samplesEncoded() const { return samplesEncoded_; }

 private:
  void convert(const uint8_t* const* data, int frames, AVSampleFormat format, const AVChannelLayout& layout, int rate);
  void configureResampler(AVSampleFormat format, const AVChannelLayout& layout, int rate);
  void ensureScratch(int frames);
  void encodeWholeFrames();
  void encodeFromQueue(int frames);
  void send(const AVFrame* frame);

  PacketSink sink_;
  CodecContextPtr codec_;
  ResamplerPtr resampler_;
  AVSampleFormat inputFormat_ = AV_SAMPLE_FMT_NONE;
  AVChannelLayout inputLayout_{};
  int inputRate_ = 0;
  AudioFifoPtr queue_;
  FramePtr scratch_;
  PacketPtr packet_;
  int64_t samplesQueued_ = 0;
  int64_t samplesEncoded_ = 0;
};

}  // namespace abrcast
