// What the pipeline reports. The binding implements this by forwarding each
// event to JS through a ThreadSafeFunction; the pipeline itself knows no Napi.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abrcast {

struct SegmentOutput {
  int rendition = 0;           // index into EncoderConfig::renditions
  int index = 0;               // segment number within the rendition
  int64_t startFrame = 0;      // pts of the first frame, in encoder ticks (frames)
  int64_t durationFrames = 0;  // exact, from the pts of this and the next IDR
  std::string codecs;          // RFC 6381 string from the SPS
  std::string path;            // set when the segment was also written to disk
  std::vector<uint8_t> data;
};

struct RenditionTotals {
  int segments = 0;
  int64_t bytes = 0;
};

struct PipelineSummary {
  int64_t frames = 0;        // frames in the output (after `shortest` cut the video)
  int64_t audioSamples = -1; // 48 kHz samples per channel in the output; -1 without audio
  std::vector<RenditionTotals> renditions;
};

// Where FFmpeg's log lines end up (see log-router.h).
class WarningSink {
 public:
  virtual ~WarningSink() = default;
  virtual void onWarning(std::string message) = 0;
};

class PipelineEvents : public WarningSink {
 public:
  // Everything is open: inputs, CUDA, the filter graph, every encoder.
  virtual void onReady() {}
  virtual void onSegment(SegmentOutput&& segment) = 0;
  // The input queue went from above maxFramesInFlight to at most it.
  virtual void onDrain(size_t queuedFrames) = 0;
  // The PCM queue went from above AudioConfig::maxQueuedSamples to at most it.
  virtual void onAudioDrain(size_t queuedSamples) = 0;
  // File input: `frames` frames have entered the filter graph so far (sent a few times a second).
  virtual void onProgress(int64_t frames) {}
  virtual void onError(std::string message) = 0;
  // Always the last event, after every thread has stopped.
  virtual void onFinished(PipelineSummary summary, bool failed) = 0;
};

}  // namespace abrcast
