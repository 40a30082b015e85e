#include "media-input.h"

#include <chrono>
#include <cstdio>

namespace abrcast {

namespace {

std::string secondsText(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return text;
}

}  // namespace

int InputInterrupt::check(void* opaque) {
  auto* self = static_cast<InputInterrupt*>(opaque);
  if (self->cancelled()) return 1;
  if (std::chrono::steady_clock::now() > self->deadline) self->expired = true;
  return self->expired ? 1 : 0;
}

InputFormatPtr openMediaInput(const std::string& source, InputInterrupt* interrupt, const char* label,
                              double timeoutSeconds) {
  const std::string named = std::string(label) + " " + source;
  if (!interrupt) throw std::invalid_argument("openMediaInput needs an InputInterrupt that outlives the input");
  if (timeoutSeconds > 0) {
    interrupt->deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeoutSeconds));
  }
  const auto failed = [&](int code, const std::string& what) {
    if (code < 0 && interrupt->expired) {
      throw FFmpegError(what + ": no answer within " + secondsText(timeoutSeconds) + " s (ioTimeout)");
    }
    check(code, what);
  };
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  raw->interrupt_callback = AVIOInterruptCB{&InputInterrupt::check, interrupt};
  AVDictionary* options = nullptr;
  // Every protocol's reads and writes then fail after this long without progress.
  if (timeoutSeconds > 0) av_dict_set_int(&options, "rw_timeout", int64_t(timeoutSeconds * 1e6), 0);
  // On failure avformat_open_input frees the context itself.
  const int opened = avformat_open_input(&raw, source.c_str(), nullptr, &options);
  av_dict_free(&options);  // what no protocol took: rw_timeout for one that has none
  failed(opened, "Cannot open " + named);
  InputFormatPtr format(raw);
  failed(avformat_find_stream_info(format.get(), nullptr), "Cannot read " + named);
  // Opened: from now on rw_timeout bounds each read instead.
  interrupt->deadline = std::chrono::steady_clock::time_point::max();
  return format;
}

int findBestStream(AVFormatContext* format, AVMediaType type, const std::string& source, const AVCodec** codec) {
  const std::string kind = type == AVMEDIA_TYPE_AUDIO ? "audio" : "video";
  const int found = av_find_best_stream(format, type, -1, -1, codec, 0);
  if (found == AVERROR_STREAM_NOT_FOUND) throw FFmpegError("No " + kind + " stream in " + source);
  if (found == AVERROR_DECODER_NOT_FOUND) {
    throw FFmpegError("Cannot decode the " + kind + " of " + source + ": this FFmpeg has no decoder for its codec");
  }
  return check(found, "Cannot find a " + kind + " stream in " + source);
}

AVRational guessFrameRate(AVFormatContext* format, int streamIndex) {
  AVStream* stream = format->streams[streamIndex];
  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = av_guess_frame_rate(format, stream, nullptr);
  if (rate.num <= 0 || rate.den <= 0) return AVRational{0, 1};
  av_reduce(&rate.num, &rate.den, rate.num, rate.den, 1 << 30);
  return rate;
}

MediaInfo probeMedia(const std::string& source, double timeoutSeconds) {
  InputInterrupt interrupt;  // outlives the format, whose protocols point at it
  InputFormatPtr format = openMediaInput(source, &interrupt, "input", timeoutSeconds);
  const AVCodec* codec = nullptr;
  const int video = findBestStream(format.get(), AVMEDIA_TYPE_VIDEO, source, &codec);
  const AVStream* stream = format->streams[video];
  const AVCodecParameters* params = stream->codecpar;

  MediaInfo info;
  info.width = params->width;
  info.height = params->height;
  info.frameRate = guessFrameRate(format.get(), video);
  info.videoCodec = avcodec_get_name(params->codec_id);
  info.formatName = format->iformat->name;
  if (const char* name = av_get_pix_fmt_name(AVPixelFormat(params->format))) info.pixelFormat = name;
  if (stream->duration > 0 && stream->duration != AV_NOPTS_VALUE) {
    info.durationSeconds = double(stream->duration) * av_q2d(stream->time_base);
  } else if (format->duration > 0 && format->duration != AV_NOPTS_VALUE) {
    info.durationSeconds = double(format->duration) / AV_TIME_BASE;
  }
  if (stream->nb_frames > 0) info.frames = stream->nb_frames;
  const int audio = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, video, nullptr, 0);
  if (audio >= 0) info.audioCodec = avcodec_get_name(format->streams[audio]->codecpar->codec_id);
  if (info.width <= 0 || info.height <= 0) throw FFmpegError("Cannot read the video size of " + source);
  return info;
}

}  // namespace abrcast
