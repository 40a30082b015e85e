// FFmpeg includes, RAII owners and error text shared by the native core.
// Every FFmpeg object lives in a unique_ptr whose deleter is FFmpeg's own free function.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/avutil.h>
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
}

#include <memory>
#include <stdexcept>
#include <string>

#include "ffmpeg-error.h"

namespace abrcast {

struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FilterGraphDeleter {
  void operator()(AVFilterGraph* graph) const { avfilter_graph_free(&graph); }
};
struct BufferRefDeleter {
  void operator()(AVBufferRef* ref) const { av_buffer_unref(&ref); }
};
struct BufferPoolDeleter {
  void operator()(AVBufferPool* pool) const { av_buffer_pool_uninit(&pool); }
};
struct FilterInOutDeleter {
  void operator()(AVFilterInOut* inout) const { avfilter_inout_free(&inout); }
};

struct DictionaryDeleter {
  void operator()(AVDictionary* dictionary) const { av_dict_free(&dictionary); }
};
// A custom AVIOContext and the buffer FFmpeg may have reallocated inside it.
struct IoContextDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
// An output context whose pb is owned separately (AVFMT_FLAG_CUSTOM_IO).
struct OutputFormatDeleter {
  void operator()(AVFormatContext* format) const { avformat_free_context(format); }
};

struct InputFormatDeleter {
  void operator()(AVFormatContext* format) const { avformat_close_input(&format); }
};
struct ResamplerDeleter {
  void operator()(SwrContext* resampler) const { swr_free(&resampler); }
};
struct AudioFifoDeleter {
  void operator()(AVAudioFifo* fifo) const { av_audio_fifo_free(fifo); }
};

using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FilterGraphPtr = std::unique_ptr<AVFilterGraph, FilterGraphDeleter>;
using BufferRefPtr = std::unique_ptr<AVBufferRef, BufferRefDeleter>;
using BufferPoolPtr = std::unique_ptr<AVBufferPool, BufferPoolDeleter>;
using FilterInOutPtr = std::unique_ptr<AVFilterInOut, FilterInOutDeleter>;
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using DictionaryPtr = std::unique_ptr<AVDictionary, DictionaryDeleter>;
using IoContextPtr = std::unique_ptr<AVIOContext, IoContextDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using ResamplerPtr = std::unique_ptr<SwrContext, ResamplerDeleter>;
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

inline FramePtr allocFrame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

inline PacketPtr allocPacket() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

// Bytes per pixel of a packed format (rgb24: 3; rgba, bgra: 4): the row size of write()'s frames.
inline int bytesPerPixel(AVPixelFormat format) {
  return av_get_padded_bits_per_pixel(av_pix_fmt_desc_get(format)) / 8;
}

// av_err2str is a C compound-literal macro that C++ cannot use.
inline std::string errorText(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buffer, sizeof buffer);
  return buffer;
}

// "a, b": the keys left in `options` after an open, i.e. the ones nothing took.
inline std::string dictionaryKeys(const AVDictionary* options) {
  std::string keys;
  const AVDictionaryEntry* entry = nullptr;
  while ((entry = av_dict_get(options, "", entry, AV_DICT_IGNORE_SUFFIX))) {
    if (!keys.empty()) keys += ", ";
    keys += entry->key;
  }
  return keys;
}

// Throws "<what>: <FFmpeg's reason>" when code is negative; returns code otherwise.
inline int check(int code, const std::string& what) {
  if (code < 0) throw FFmpegError(what + ": " + errorText(code));
  return code;
}

}  // namespace abrcast
