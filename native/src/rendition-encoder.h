// The owner of everything one rendition needs: its encoder, its segmenter, the
// queue of scaled frames that feeds it, and the worker thread that drains it.
// Where the stream is cut is the SegmentCutter's to say; this carries the cuts out
// (muxer, audio interleaving, events).
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audio-pipeline.h"
#include "bounded-queue.h"
#include "config.h"
#include "ffmpeg.h"
#include "log-router.h"
#include "pipeline-events.h"
#include "segment-cutter.h"
#include "segmenter.h"
#include "stop-token.h"
#include "thumbnail-encoder.h"
#include "timed-metadata.h"

namespace abrcast {

class RenditionEncoder {
 public:
  using FailureHandler = std::function<void(const std::string&)>;

  // Opens the encoder for frames shaped like `sink`'s output. `audio` (may be
  // null) supplies the AAC packets muxed next to the video.
  RenditionEncoder(int index, const EncoderConfig& config, AVFilterContext* sink, AudioPipeline* audio,
                   PipelineEvents* events, FailureHandler onFailure);
  ~RenditionEncoder();
  RenditionEncoder(const RenditionEncoder&) = delete;
  RenditionEncoder& operator=(const RenditionEncoder&) = delete;

  void start();
  // Blocks while the queue is full (backpressure towards the filter graph).
  // False when the encoder has stopped taking frames.
  bool push(FramePtr& frame) { return queue_.push(frame); }
  // No more frames: the worker flushes the encoder and emits the last segment.
  void endInput() { queue_.close(); }
  // Stop without flushing; queued frames are dropped.
  void abort();
  // Any thread: carries `metadata` in band once the stream reaches its time (at once when it is past).
  void addMetadata(const TimedMetadata& metadata);
  void join();

  const std::string& name() const { return rendition_.name; }
  RenditionTotals totals() const { return totals_; }

 private:
  void run();
  void encode(AVFrame* frame);
  void handlePacket(AVPacket* packet);
  void writeVideo(AVPacket* packet);
  void cutAt(SegmentCutter::Cut cut);
  void cutIfFull();
  void emitPart(std::vector<uint8_t> data, const SegmentCutter::Span& span);
  void writeAudioBefore(int64_t videoPts);
  void writeMetadataBefore(int64_t videoPts);
  void emitThumbnail(const AVFrame* frame);
  void drainPending(bool final);
  std::vector<int64_t> pendingPts() const;
  void emitSegment(const SegmentCutter::Span& span);
  std::string codecsString() const;
  void emitInit();
  std::string writeToOutputDir(const char* what, const std::string& fileName, const std::vector<uint8_t>& data) const;

  int index_;
  const EncoderConfig& config_;
  RenditionConfig rendition_;
  AudioPipeline* audio_;
  PipelineEvents* events_;
  FailureHandler onFailure_;

  std::unique_ptr<ScopedLogContext> logContext_;  // x264's own threads log about codec_; freed after it
  CodecContextPtr codec_;
  std::unique_ptr<Segmenter> segmenter_;
  PacketPtr packet_;
  BoundedQueue<FramePtr> queue_;
  std::thread worker_;
  StopToken stop_;

  std::string codecs_;
  SegmentCutter cutter_;
  std::vector<uint8_t> segmentData_;  // the running segment's parts so far
  std::vector<IframeRange> segmentIframes_;  // the running segment's I-frames so far
  size_t expectedSegmentBytes_ = 0;   // bitrate x duration, to size segmentData_ once
  // With audio: video packets (decode order) waiting for the audio that precedes them.
  std::deque<PacketPtr> pending_;
  bool warnedAudioLag_ = false;
  RenditionTotals totals_;
  // writeMetadata() items not yet muxed, by time; filled from the JS thread.
  std::mutex metadataMutex_;
  std::vector<TimedMetadata> metadata_;
  // The smallest rendition makes the thumbnails (config.thumbnailWidth); null otherwise.
  std::unique_ptr<ThumbnailEncoder> thumbnails_;
};

}  // namespace abrcast
