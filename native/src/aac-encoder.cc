#include "aac-encoder.h"

#include <algorithm>

namespace abrcast {

AacEncoder::AacEncoder(int bitrateKbps, PacketSink sink)
    : sink_(std::move(sink)), scratch_(allocFrame()), packet_(allocPacket()) {
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (!codec) throw FFmpegError("Cannot find encoder aac: this FFmpeg was built without it");
  codec_.reset(avcodec_alloc_context3(codec));
  if (!codec_) throw std::bad_alloc();
  AVCodecContext* c = codec_.get();
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  c->sample_rate = kSampleRate;
  av_channel_layout_default(&c->ch_layout, kChannels);
  c->bit_rate = int64_t(bitrateKbps) * 1000;
  c->time_base = timeBase();
  check(avcodec_open2(c, codec, nullptr), "Cannot open AAC encoder");

  queue_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, kChannels, c->frame_size * 4));
  if (!queue_) throw std::bad_alloc();
}

void AacEncoder::configureResampler(AVSampleFormat format, const AVChannelLayout& layout, int rate) {
  if (resampler_ && format == inputFormat_ && rate == inputRate_ && !av_channel_layout_compare(&layout, &inputLayout_)) return;
  // The input changed shape mid-stream: keep what the old resampler still holds.
  if (resampler_) endInput();
  AVChannelLayout input{};
  // Decoders may leave the order unspecified; swresample needs a real layout.
  if (layout.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&input, layout.nb_channels);
  else check(av_channel_layout_copy(&input, &layout), "Cannot copy channel layout");
  SwrContext* raw = nullptr;
  const int made = swr_alloc_set_opts2(&raw, &codec_->ch_layout, AV_SAMPLE_FMT_FLTP, kSampleRate, &input, format, rate, 0, nullptr);
  av_channel_layout_uninit(&input);
  resampler_.reset(raw);
  check(made, "Cannot create audio resampler");
  check(swr_init(resampler_.get()), "Cannot open audio resampler");
  inputFormat_ = format;
  inputRate_ = rate;
  av_channel_layout_uninit(&inputLayout_);
  check(av_channel_layout_copy(&inputLayout_, &layout), "Cannot copy channel layout");
}

void AacEncoder::ensureScratch(int frames) {
  if (scratch_->data[0] && scratch_->nb_samples >= frames) return;
  av_frame_unref(scratch_.get());
  scratch_->format = AV_SAMPLE_FMT_FLTP;
  scratch_->sample_rate = kSampleRate;
  check(av_channel_layout_copy(&scratch_->ch_layout, &codec_->ch_layout), "Cannot copy channel layout");
  scratch_->nb_samples = std::max(frames, codec_->frame_size);
  check(av_frame_get_buffer(scratch_.get(), 0), "Cannot allocate audio buffer");
}

void AacEncoder::convert(const uint8_t* const* data, int frames, AVSampleFormat format, const AVChannelLayout& layout, int rate) {
  configureResampler(format, layout, rate);
  ensureScratch(swr_get_out_samples(resampler_.get(), frames));
  // swr_convert takes `const uint8_t**` before FFmpeg 7 and `const uint8_t* const*` since.
  const int converted = check(swr_convert(resampler_.get(), scratch_->data, scratch_->nb_samples, const_cast<const uint8_t**>(data), frames),
                              "Cannot resample audio");
  if (converted > 0) {
    check(av_audio_fifo_write(queue_.get(), reinterpret_cast<void**>(scratch_->data), converted), "Cannot queue audio");
    samplesQueued_ += converted;
  }
  encodeWholeFrames();
}

void AacEncoder::push(const AVFrame* frame) {
  convert(frame->extended_data, frame->nb_samples, static_cast<AVSampleFormat>(frame->format), frame->ch_layout,
          frame->sample_rate);
}

void AacEncoder::pushInterleaved(const float* samples, int frames, const AVChannelLayout& layout, int sampleRate) {
  const auto* data = reinterpret_cast<const uint8_t*>(samples);
  convert(&data, frames, AV_SAMPLE_FMT_FLT, layout, sampleRate);
}

void AacEncoder::endInput() {
  if (!resampler_) return;
  for (;;) {
    ensureScratch(std::max(1, swr_get_out_samples(resampler_.get(), 0)));
    const int drained = check(swr_convert(resampler_.get(), scratch_->data, scratch_->nb_samples, nullptr, 0),
                              "Cannot resample audio");
    if (drained <= 0) break;
    check(av_audio_fifo_write(queue_.get(), reinterpret_cast<void**>(scratch_->data), drained), "Cannot queue audio");
    samplesQueued_ += drained;
  }
  encodeWholeFrames();
}

void AacEncoder::padTo(int64_t total) {
  while (samplesQueued_ < total) {
    const int chunk = int(std::min<int64_t>(total - samplesQueued_, codec_->frame_size));
    ensureScratch(chunk);
    av_samples_set_silence(scratch_->data, 0, chunk, kChannels, AV_SAMPLE_FMT_FLTP);
    check(av_audio_fifo_write(queue_.get(), reinterpret_cast<void**>(scratch_->data), chunk), "Cannot queue audio");
    samplesQueued_ += chunk;
  }
  encodeWholeFrames();
}

void AacEncoder::finish(int64_t total) {
  padTo(total);
  // Whole frames went out as they filled; what is left is one short last frame at most.
  while (samplesEncoded_ < total && av_audio_fifo_size(queue_.get()) > 0) {
    encodeFromQueue(int(std::min<int64_t>({total - samplesEncoded_, av_audio_fifo_size(queue_.get()), codec_->frame_size})));
  }
  av_audio_fifo_reset(queue_.get());
  send(nullptr);
}

void AacEncoder::encodeWholeFrames() {
  while (av_audio_fifo_size(queue_.get()) >= codec_->frame_size) encodeFromQueue(codec_->frame_size);
}

void AacEncoder::encodeFromQueue(int frames) {
  FramePtr frame = allocFrame();
  frame->format = AV_SAMPLE_FMT_FLTP;
  frame->sample_rate = kSampleRate;
  frame->nb_samples = frames;
  check(av_channel_layout_copy(&frame->ch_layout, &codec_->ch_layout), "Cannot copy channel layout");
  check(av_frame_get_buffer(frame.get(), 0), "Cannot allocate audio frame");
  check(av_audio_fifo_read(queue_.get(), reinterpret_cast<void**>(frame->data), frames), "Cannot read queued audio");
  frame->pts = samplesEncoded_;
  samplesEncoded_ += frames;
  send(frame.get());
}

void AacEncoder::send(const AVFrame* frame) {
  check(avcodec_send_frame(codec_.get(), frame), "Cannot encode audio");
  for (;;) {
    const int received = avcodec_receive_packet(codec_.get(), packet_.get());
    if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
    check(received, "Cannot encode audio");
    PacketPtr out = allocPacket();
    av_packet_move_ref(out.get(), packet_.get());
    sink_(std::move(out));
  }
}

}  // namespace abrcast
