#include "ts-segmenter.h"

#include <algorithm>

namespace abrcast {

namespace {
constexpr int kIoBufferSize = 64 * 1024;
}

int TsSegmenter::onWrite(void* opaque, const uint8_t* data, int size) {
  auto* self = static_cast<TsSegmenter*>(opaque);
  self->pending_.insert(self->pending_.end(), data, data + size);
  return size;
}

TsSegmenter::TsSegmenter(const std::string& renditionName, const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                         size_t expectedSegmentBytes)
    : renditionName_(renditionName), expectedSegmentBytes_(expectedSegmentBytes) {
  const std::string where = " for rendition " + renditionName;
  pending_.reserve(expectedSegmentBytes_);
  AVFormatContext* format = nullptr;
  check(avformat_alloc_output_context2(&format, nullptr, "mpegts", nullptr), "Cannot create MPEG-TS muxer" + where);
  format_.reset(format);

  auto* ioBuffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!ioBuffer) throw std::bad_alloc();
#if LIBAVFORMAT_VERSION_MAJOR < 61
  io_.reset(avio_alloc_context(ioBuffer, kIoBufferSize, 1, this, nullptr, &TsSegmenter::onWriteNonConst, nullptr));
#else
  io_.reset(avio_alloc_context(ioBuffer, kIoBufferSize, 1, this, nullptr, &TsSegmenter::onWrite, nullptr));
#endif
  if (!io_) {
    av_free(ioBuffer);
    throw std::bad_alloc();
  }
  format_->pb = io_.get();
  format_->flags |= AVFMT_FLAG_CUSTOM_IO;
  format_->max_delay = int(kMuxDelaySeconds * AV_TIME_BASE);
  format_->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;

  stream_ = avformat_new_stream(format_.get(), nullptr);
  if (!stream_) throw FFmpegError("Cannot add video stream" + where);
  check(avcodec_parameters_from_context(stream_->codecpar, encoder), "Cannot copy encoder parameters" + where);
  stream_->time_base = encoder->time_base;
  if (audioEncoder) {
    audioStream_ = avformat_new_stream(format_.get(), nullptr);
    if (!audioStream_) throw FFmpegError("Cannot add audio stream" + where);
    check(avcodec_parameters_from_context(audioStream_->codecpar, audioEncoder), "Cannot copy audio encoder parameters" + where);
    audioStream_->time_base = audioEncoder->time_base;
  }
  check(avformat_write_header(format_.get(), nullptr), "Cannot write MPEG-TS header" + where);
}

TsSegmenter::~TsSegmenter() = default;

void TsSegmenter::writeTo(AVStream* stream, AVPacket* packet, AVRational encoderTimeBase) {
  av_packet_rescale_ts(packet, encoderTimeBase, stream->time_base);
  packet->stream_index = stream->index;
  // Not av_interleaved_write_frame: the caller interleaves by segment, and what
  // is written must be in the muxer, not in its queue, when a segment is cut.
  check(av_write_frame(format_.get(), packet), "Cannot write packet for rendition " + renditionName_);
}

std::vector<uint8_t> TsSegmenter::cutSegment() {
  // A null packet makes the muxer write out what it buffers (AVFMT_ALLOW_FLUSH).
  check(av_write_frame(format_.get(), nullptr), "Cannot flush MPEG-TS muxer for rendition " + renditionName_);
  avio_flush(format_->pb);
  // mpegts also re-sends PAT/PMT before a video keyframe; asking for it makes
  // every segment decodable on its own whatever the muxer's version does.
  av_opt_set(format_->priv_data, "mpegts_flags", "+resend_headers", 0);
  std::vector<uint8_t> segment;
  segment.swap(pending_);
  pending_.reserve(std::max(expectedSegmentBytes_, segment.size()));
  return segment;
}

std::vector<uint8_t> TsSegmenter::finish() {
  if (!trailerWritten_) {
    trailerWritten_ = true;
    check(av_write_trailer(format_.get()), "Cannot finish MPEG-TS muxer for rendition " + renditionName_);
    avio_flush(format_->pb);
  }
  std::vector<uint8_t> segment;
  segment.swap(pending_);
  return segment;
}

}  // namespace abrcast
