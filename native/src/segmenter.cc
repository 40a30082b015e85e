#include "segmenter.h"

#include <algorithm>

#include "fmp4-segmenter.h"
#include "ts-segmenter.h"

namespace abrcast {

namespace {
constexpr int kIoBufferSize = 64 * 1024;
}

int Segmenter::onWrite(void* opaque, const uint8_t* data, int size) {
  auto* self = static_cast<Segmenter*>(opaque);
  self->pending_.insert(self->pending_.end(), data, data + size);
  return size;
}

Segmenter::Segmenter(const char* formatName, const char* label, const std::string& renditionName, const AVCodecContext* encoder,
                     const AVCodecContext* audioEncoder, size_t expectedSegmentBytes)
    : label_(label), where_(" for rendition " + renditionName), expectedSegmentBytes_(expectedSegmentBytes) {
  pending_.reserve(expectedSegmentBytes_);
  AVFormatContext* format = nullptr;
  check(avformat_alloc_output_context2(&format, nullptr, formatName, nullptr),
        "Cannot create " + label_ + " muxer (" + formatName + ")" + where_ + " (is this FFmpeg built with it?)");
  format_.reset(format);

  auto* ioBuffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!ioBuffer) throw std::bad_alloc();
#if LIBAVFORMAT_VERSION_MAJOR < 61
  io_.reset(avio_alloc_context(ioBuffer, kIoBufferSize, 1, this, nullptr, &Segmenter::onWriteNonConst, nullptr));
#else
  io_.reset(avio_alloc_context(ioBuffer, kIoBufferSize, 1, this, nullptr, &Segmenter::onWrite, nullptr));
#endif
  if (!io_) {
    av_free(ioBuffer);
    throw std::bad_alloc();
  }
  format_->pb = io_.get();
  format_->flags |= AVFMT_FLAG_CUSTOM_IO;

  stream_ = avformat_new_stream(format_.get(), nullptr);
  if (!stream_) throw FFmpegError("Cannot add video stream" + where_);
  check(avcodec_parameters_from_context(stream_->codecpar, encoder), "Cannot copy encoder parameters" + where_);
  stream_->time_base = encoder->time_base;
  if (audioEncoder) {
    audioStream_ = avformat_new_stream(format_.get(), nullptr);
    if (!audioStream_) throw FFmpegError("Cannot add audio stream" + where_);
    check(avcodec_parameters_from_context(audioStream_->codecpar, audioEncoder), "Cannot copy audio encoder parameters" + where_);
    audioStream_->time_base = audioEncoder->time_base;
  }
}

Segmenter::~Segmenter() = default;

void Segmenter::writeHeader(DictionaryPtr options) {
  AVDictionary* raw = options.release();
  const int written = avformat_write_header(format_.get(), &raw);
  options.reset(raw);
  check(written, "Cannot write " + label_ + " header" + where_);
  if (options) {
    throw FFmpegError("The " + label_ + " muxer" + where_ + " does not take the option(s) " + dictionaryKeys(options.get()) +
                      " (FFmpeg " + av_version_info() + ")");
  }
}

AVStream* Segmenter::addStream(AVMediaType type, AVCodecID codec, AVRational timeBase) {
  AVStream* stream = avformat_new_stream(format_.get(), nullptr);
  if (!stream) throw FFmpegError(std::string("Cannot add ") + avcodec_get_name(codec) + " stream" + where_);
  stream->codecpar->codec_type = type;
  stream->codecpar->codec_id = codec;
  stream->time_base = timeBase;
  return stream;
}

void Segmenter::write(AVPacket* packet, AVRational encoderTimeBase) {
  const size_t videoPacket = videoPackets_++;
  if (!(packet->flags & AV_PKT_FLAG_KEY)) {
    writeVideo(packet, encoderTimeBase);
    return;
  }
  WrittenKeyframe keyframe;
  keyframe.videoPacket = videoPacket;
  keyframe.pts = packet->pts;
  // The AVIO buffer is written out around a keyframe only (once a segment), so pending_ says where it went.
  avio_flush(format_->pb);
  keyframe.start = pending_.size();
  writeVideo(packet, encoderTimeBase);
  avio_flush(format_->pb);
  keyframe.end = pending_.size();
  writtenKeyframes_.push_back(keyframe);
}

void Segmenter::writeTo(AVStream* stream, AVPacket* packet, AVRational encoderTimeBase) {
  av_packet_rescale_ts(packet, encoderTimeBase, stream->time_base);
  packet->stream_index = stream->index;
  // Not av_interleaved_write_frame: the caller interleaves by part, and what
  // is written must be in the muxer, not in its queue, when a part is cut.
  check(av_write_frame(format_.get(), packet), "Cannot write packet" + where_);
}

void Segmenter::flushMuxer() {
  check(av_write_frame(format_.get(), nullptr), "Cannot flush " + label_ + " muxer" + where_);
  avio_flush(format_->pb);
}

std::vector<uint8_t> Segmenter::takePending() {
  std::vector<uint8_t> bytes;
  bytes.swap(pending_);
  takenKeyframes_.clear();
  takenKeyframes_.swap(writtenKeyframes_);
  videoPackets_ = 0;
  pending_.reserve(std::max(expectedSegmentBytes_, bytes.size()));
  return bytes;
}

void Segmenter::writeTrailer() {
  if (trailerWritten_) return;
  trailerWritten_ = true;
  check(av_write_trailer(format_.get()), "Cannot finish " + label_ + " muxer" + where_);
  avio_flush(format_->pb);
}

std::unique_ptr<Segmenter> makeSegmenter(const EncoderConfig& config, const std::string& renditionName,
                                         const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                                         size_t expectedSegmentBytes) {
  if (config.container == Container::Fmp4) {
    return std::make_unique<Fmp4Segmenter>(renditionName, encoder, audioEncoder, expectedSegmentBytes);
  }
  return std::make_unique<TsSegmenter>(renditionName, encoder, audioEncoder, expectedSegmentBytes, config.timedMetadata);
}

}  // namespace abrcast
