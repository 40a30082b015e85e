#include "video-file-decoder.h"

#include "media-input.h"

namespace abrcast {

int VideoFileDecoder::onInterrupt(void* opaque) {
  const auto* self = static_cast<const VideoFileDecoder*>(opaque);
  return self->interrupted_ && self->interrupted_->load() ? 1 : 0;
}

VideoFileDecoder::VideoFileDecoder(const std::string& source, const std::atomic<bool>* interrupted)
    : source_(source), interrupted_(interrupted), packet_(allocPacket()) {
  const AVIOInterruptCB interrupt{&VideoFileDecoder::onInterrupt, this};
  format_ = openMediaInput(source, &interrupt);
  const AVCodec* codec = nullptr;
  streamIndex_ = findVideoStream(format_.get(), source, &codec);
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (int(i) != streamIndex_) format_->streams[i]->discard = AVDISCARD_ALL;
  }
  AVStream* stream = format_->streams[streamIndex_];
  timeBase_ = stream->time_base;

  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  check(avcodec_parameters_to_context(decoder_.get(), stream->codecpar), "Cannot read the video parameters of " + source);
  decoder_->pkt_timebase = stream->time_base;
  decoder_->thread_count = 0;  // as many as FFmpeg sees fit
  check(avcodec_open2(decoder_.get(), codec, nullptr), "Cannot open the video decoder for " + source);

  first_ = allocFrame();
  if (!decodeNext(first_.get())) throw FFmpegError("Cannot decode the video of " + source + ": it holds no frames");
  frameFormat_.width = first_->width;
  frameFormat_.height = first_->height;
  frameFormat_.pixelFormat = AVPixelFormat(first_->format);
  frameFormat_.colorspace = first_->colorspace;
  frameFormat_.colorRange = first_->color_range;
}

bool VideoFileDecoder::next(AVFrame* frame) {
  av_frame_unref(frame);
  if (first_) {
    av_frame_move_ref(frame, first_.get());
    first_.reset();
    return true;
  }
  return decodeNext(frame);
}

bool VideoFileDecoder::decodeNext(AVFrame* frame) {
  const std::string what = "Cannot decode the video of " + source_;
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
    if (read == AVERROR_EXIT && interrupted_ && interrupted_->load()) return false;
    check(read, "Cannot read input " + source_);
    if (packet_->stream_index == streamIndex_) {
      const int sent = avcodec_send_packet(decoder_.get(), packet_.get());
      // A damaged packet costs a frame or a few, not the stream: the decoder logs it.
      if (sent < 0 && sent != AVERROR_INVALIDDATA) check(sent, what);
    }
    av_packet_unref(packet_.get());
  }
}

}  // namespace abrcast
