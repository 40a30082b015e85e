#include "audio-file-decoder.h"

namespace abrcast {

int AudioFileDecoder::onInterrupt(void* opaque) {
  const auto* self = static_cast<const AudioFileDecoder*>(opaque);
  return self->interrupted_ && self->interrupted_->load() ? 1 : 0;
}

AudioFileDecoder::AudioFileDecoder(const std::string& source, const std::atomic<bool>* interrupted)
    : source_(source), interrupted_(interrupted), packet_(allocPacket()) {
  const std::string where = " " + source;
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->interrupt_callback = AVIOInterruptCB{&AudioFileDecoder::onInterrupt, this};
  // On failure avformat_open_input frees the context itself.
  check(avformat_open_input(&raw, source.c_str(), nullptr, nullptr), "Cannot open audio source" + where);
  format_.reset(raw);
  check(avformat_find_stream_info(format_.get(), nullptr), "Cannot read audio source" + where);

  const AVCodec* codec = nullptr;
  const int found = av_find_best_stream(format_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
  if (found == AVERROR_STREAM_NOT_FOUND) throw FFmpegError("No audio stream in" + where);
  if (found == AVERROR_DECODER_NOT_FOUND) {
    throw FFmpegError("Cannot decode audio source" + where + ": no decoder for its codec");
  }
  streamIndex_ = check(found, "Cannot find an audio stream in" + where);
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (int(i) != streamIndex_) format_->streams[i]->discard = AVDISCARD_ALL;
  }

  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  check(avcodec_parameters_to_context(decoder_.get(), format_->streams[streamIndex_]->codecpar),
        "Cannot read audio parameters of" + where);
  check(avcodec_open2(decoder_.get(), codec, nullptr), "Cannot open audio decoder for" + where);

  first_ = allocFrame();
  if (!decodeNext(first_.get())) throw FFmpegError("Cannot decode audio source" + where + ": it holds no audio samples");
}

bool AudioFileDecoder::next(AVFrame* frame) {
  av_frame_unref(frame);
  if (first_) {
    av_frame_move_ref(frame, first_.get());
    first_.reset();
    return true;
  }
  return decodeNext(frame);
}

bool AudioFileDecoder::decodeNext(AVFrame* frame) {
  const std::string what = "Cannot decode audio source " + source_;
  for (;;) {
    const int received = avcodec_receive_frame(decoder_.get(), frame);
    if (received == 0) return true;
    if (received == AVERROR_EOF) return false;
    if (received != AVERROR(EAGAIN)) check(received, what);
    if (inputEnded_) return false;

    const int read = av_read_frame(format_.get(), packet_.get());
    if (read == AVERROR_EOF) {
      inputEnded_ = true;
      check(avcodec_send_packet(decoder_.get(), nullptr), what);  // flush the decoder's delayed frames
      continue;
    }
    check(read, "Cannot read audio source " + source_);
    if (packet_->stream_index == streamIndex_) {
      const int sent = avcodec_send_packet(decoder_.get(), packet_.get());
      // One damaged packet costs a few milliseconds of sound, not the stream: the decoder logs it.
      if (sent < 0 && sent != AVERROR_INVALIDDATA) check(sent, what);
    }
    av_packet_unref(packet_.get());
  }
}

}  // namespace abrcast
