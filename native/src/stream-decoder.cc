#include "stream-decoder.h"

#include "media-input.h"

namespace abrcast {

StreamDecoder::StreamDecoder(const std::string& source, AVMediaType type, const StopToken* interrupted,
                             const StopToken* cancelled, double timeoutSeconds, int threads)
    : source_(source), packet_(allocPacket()) {
  interrupt_.tokens[0] = interrupted;
  interrupt_.tokens[1] = cancelled;
  const bool audio = type == AVMEDIA_TYPE_AUDIO;
  // An audio source is named as such (it may be a second file); a video stream is the input's.
  label_ = (audio ? "audio source " : "input ") + source;
  const std::string decodeWhat = audio ? "Cannot decode audio source " + source : "Cannot decode the video of " + source;

  format_ = openMediaInput(source, &interrupt_, audio ? "audio source" : "input", timeoutSeconds);
  const AVCodec* codec = nullptr;
  streamIndex_ = findBestStream(format_.get(), type, source, &codec);
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (int(i) != streamIndex_) format_->streams[i]->discard = AVDISCARD_ALL;
  }
  AVStream* stream = format_->streams[streamIndex_];
  timeBase_ = stream->time_base;

  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  check(avcodec_parameters_to_context(decoder_.get(), stream->codecpar), "Cannot read the parameters of " + label_);
  decoder_->pkt_timebase = stream->time_base;
  decoder_->thread_count = threads;
  check(avcodec_open2(decoder_.get(), codec, nullptr), "Cannot open the decoder for " + label_);

  first_ = allocFrame();
  if (!decodeNext(first_.get())) {
    throw FFmpegError(decodeWhat + (audio ? ": it holds no audio samples" : ": it holds no frames"));
  }
}

bool StreamDecoder::next(AVFrame* frame) {
  av_frame_unref(frame);
  if (first_) {
    av_frame_move_ref(frame, first_.get());
    first_.reset();
    return true;
  }
  return decodeNext(frame);
}

bool StreamDecoder::decodeNext(AVFrame* frame) {
  const bool audio = decoder_->codec_type == AVMEDIA_TYPE_AUDIO;
  const std::string what = audio ? "Cannot decode audio source " + source_ : "Cannot decode the video of " + source_;
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
    if (read == AVERROR_EXIT && interrupt_.cancelled()) return false;
    check(read, "Cannot read " + label_);
    if (packet_->stream_index == streamIndex_) {
      const int sent = avcodec_send_packet(decoder_.get(), packet_.get());
      // A damaged packet costs a frame or a few ms of sound, not the stream: the decoder logs it.
      if (sent < 0 && sent != AVERROR_INVALIDDATA) check(sent, what);
    }
    av_packet_unref(packet_.get());
  }
}

}  // namespace abrcast
