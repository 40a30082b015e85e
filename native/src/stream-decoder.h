// Demuxes the best audio or video stream of a file or URL and decodes it with
// FFmpeg's send/receive loop. Opening decodes the first frame, so a missing,
// unreadable or undecodable source fails at construction with the source
// named, and the frames' real format is known before any graph is built.
#pragma once

#include <string>

#include "ffmpeg.h"
#include "media-input.h"

namespace abrcast {

class StreamDecoder {
 public:
  // `type`: AVMEDIA_TYPE_AUDIO or AVMEDIA_TYPE_VIDEO. `interrupted` or `cancelled` (may be null)
  // make blocking reads (network sources) give up when set. `timeoutSeconds`: see openMediaInput().
  // `threads`: the decoder's thread_count (0: FFmpeg's choice, from the host's CPUs).
  StreamDecoder(const std::string& source, AVMediaType type, const StopToken* interrupted,
                const StopToken* cancelled = nullptr, double timeoutSeconds = 0, int threads = 0);
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  const std::string& source() const { return source_; }
  // Time base of the frames' best_effort_timestamp.
  AVRational timeBase() const { return timeBase_; }
  // The first decoded frame: what the stream's frames look like. Valid until the first next().
  const AVFrame& firstFrame() const { return *first_; }

  // Decodes the next frame into `frame` (unreferenced first); false at the end or when interrupted.
  bool next(AVFrame* frame);

 private:
  bool decodeNext(AVFrame* frame);

  std::string source_;
  std::string label_;  // how messages name the stream, e.g. "audio source /x.m4a"
  InputInterrupt interrupt_;  // before format_: its protocols point at it
  InputFormatPtr format_;
  CodecContextPtr decoder_;
  PacketPtr packet_;
  FramePtr first_;  // decoded while opening, handed out by the first next()
  AVRational timeBase_{1, 1};
  int streamIndex_ = -1;
  bool inputEnded_ = false;
};

}  // namespace abrcast
