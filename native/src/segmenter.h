// One muxer per rendition for the whole run, writing into memory through a custom AVIOContext:
// timestamps, continuity counters and fragment sequence numbers keep running across cuts. cut()
// hands over the bytes written since the previous cut (a part, or a whole segment without parts),
// so the parts of a segment concatenate to it. TsSegmenter and Fmp4Segmenter fill in the format.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "ffmpeg.h"
#include "timed-metadata.h"

namespace abrcast {

// An I-frame's bytes within what cut() or finish() returned (see IframeRange).
struct KeyframeSpan {
  size_t offset = 0;
  size_t length = 0;
  int64_t pts = 0;  // encoder ticks
};

class Segmenter {
 public:
  virtual ~Segmenter();
  Segmenter(const Segmenter&) = delete;
  Segmenter& operator=(const Segmenter&) = delete;

  // Muxes a packet whose timestamps are in `encoderTimeBase`. The caller keeps
  // the packet (its timestamps are rewritten) and writes in dts order. A keyframe's place in the
  // bytes is noted for keyframes().
  void write(AVPacket* packet, AVRational encoderTimeBase);
  void writeAudio(AVPacket* packet, AVRational encoderTimeBase) { writeTo(audioStream_, packet, encoderTimeBase); }
  // Carries one timed metadata item in band: MPEG-TS writes its PES now, fMP4 an emsg box ahead of
  // the fragment the next cut() closes.
  virtual void writeMetadata(const TimedMetadata& metadata) = 0;
  // The keyframes in the bytes the last cut() or finish() returned, in order.
  const std::vector<KeyframeSpan>& keyframes() const { return keyframes_; }

  // Flushes the muxer and returns everything written since the previous cut. `segmentEnds`: the
  // next write starts a segment (the next packet is an IDR).
  virtual std::vector<uint8_t> cut(bool segmentEnds) = 0;
  // Flushes what is left, writes the trailer and returns the last bytes of the last segment.
  virtual std::vector<uint8_t> finish() = 0;
  // fMP4's init segment (ftyp + moov); empty for MPEG-TS.
  const std::vector<uint8_t>& initSegment() const { return init_; }
  // Where a frame shown at t (seconds from the start of the run) is in the bytes: PTS t + this.
  virtual double ptsOffsetSeconds() const = 0;
  // File name extension of the segments, for outputDir.
  virtual const char* segmentExtension() const = 0;

 protected:
  // `expectedSegmentBytes` sizes each cut's buffer up front (bitrate x duration), so it is not
  // regrown packet by packet. Subclasses set options on format() and then call writeHeader().
  // `formatName`: libavformat's muxer; `label`: how messages name it.
  Segmenter(const char* formatName, const char* label, const std::string& renditionName, const AVCodecContext* encoder,
            const AVCodecContext* audioEncoder, size_t expectedSegmentBytes);
  // Any option the muxer does not take is an error naming it.
  void writeHeader(DictionaryPtr options);
  // A null packet makes the muxer write out what it buffers (AVFMT_ALLOW_FLUSH), then the AVIO buffer.
  void flushMuxer();
  std::vector<uint8_t> takePending();
  void writeTrailer();
  AVFormatContext* format() const { return format_.get(); }
  const std::string& where() const { return where_; }
  AVStream* videoStream() const { return stream_; }
  // Adds a stream before writeHeader() (MPEG-TS's timed ID3).
  AVStream* addStream(AVMediaType type, AVCodecID codec, AVRational timeBase);
  void writeTo(AVStream* stream, AVPacket* packet, AVRational encoderTimeBase);
  // Writes one video packet to the muxer: what write() does with every packet, keyframe or not.
  // MPEG-TS puts the parameter sets in front of a part's first packet.
  virtual void writeVideo(AVPacket* packet, AVRational encoderTimeBase) { writeTo(stream_, packet, encoderTimeBase); }

  // A keyframe as write() saw it, in the bytes pending then: where the muxer's output stood
  // before and after it (MPEG-TS writes a video packet at once), and its number among the video
  // packets since the last cut (fMP4 writes the fragment only at the cut).
  struct WrittenKeyframe {
    size_t start = 0;
    size_t end = 0;
    size_t videoPacket = 0;
    int64_t pts = 0;
  };
  // What takePending() took with the bytes: the keyframes written since the previous cut.
  std::vector<WrittenKeyframe> takenKeyframes_;
  std::vector<KeyframeSpan> keyframes_;
  std::vector<uint8_t> init_;

 private:
  static int onWrite(void* opaque, const uint8_t* data, int size);
#if LIBAVFORMAT_VERSION_MAJOR < 61
  static int onWriteNonConst(void* opaque, uint8_t* data, int size) { return onWrite(opaque, data, size); }
#endif

  std::string label_;  // "MPEG-TS" or "fMP4", in messages
  std::string where_;  // " for rendition <name>"
  size_t expectedSegmentBytes_;
  IoContextPtr io_;  // declared first: the format context still points at it until it is freed
  OutputFormatPtr format_;
  AVStream* stream_ = nullptr;
  AVStream* audioStream_ = nullptr;
  std::vector<uint8_t> pending_;
  std::vector<WrittenKeyframe> writtenKeyframes_;
  size_t videoPackets_ = 0;  // since the last cut
  bool trailerWritten_ = false;
};

// The container of `config`, with the encoder's (and the audio encoder's, may be null) streams.
// With config.timedMetadata, MPEG-TS declares its timed ID3 stream.
std::unique_ptr<Segmenter> makeSegmenter(const EncoderConfig& config, const std::string& renditionName,
                                         const AVCodecContext* encoder, const AVCodecContext* audioEncoder,
                                         size_t expectedSegmentBytes);

}  // namespace abrcast
