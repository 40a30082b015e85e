// What the pipeline reports. The binding implements this by forwarding each
// event to JS through a ThreadSafeFunction; the pipeline itself knows no Napi.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abrcast {

// Where an I-frame lies in its segment's bytes, for EXT-X-BYTERANGE in an I-frame playlist:
// MPEG-TS from the first packet of the PAT/PMT and PES that carry it to the last of that PES;
// fMP4 from its fragment's moof to the end of the sample in the mdat.
struct IframeRange {
  int64_t offset = 0;
  int64_t length = 0;
  int64_t pts = 0;  // in encoder ticks (frames)
};

struct SegmentOutput {
  int rendition = 0;           // index into EncoderConfig::renditions
  int index = 0;               // segment number within the rendition
  int64_t startFrame = 0;      // pts of the first frame, in encoder ticks (frames)
  int64_t durationFrames = 0;  // exact, from the pts of this and the next IDR
  std::string codecs;          // RFC 6381 string from the SPS
  std::string path;            // set when the segment was also written to disk
  double ptsOffset = 0;        // seconds: a frame shown at t has PTS t + this in `data`
  std::vector<uint8_t> data;   // the concatenation of the segment's parts, when there are parts
  std::vector<IframeRange> iframes;  // every I-frame in `data`, in order (the IDR first)
};

// A JPEG of a segment's first frame (config.thumbnailWidth), sent before that segment ends.
struct ThumbnailOutput {
  int rendition = 0;        // the rendition whose picture it was made from
  int segmentIndex = 0;
  int64_t startFrame = 0;
  int width = 0;
  int height = 0;
  std::vector<uint8_t> data;
};

// One LL-HLS partial segment, emitted as soon as it is muxed (before its segment).
struct PartOutput {
  int rendition = 0;
  int segmentIndex = 0;
  int index = 0;               // part number within the segment
  int64_t startFrame = 0;
  int64_t durationFrames = 0;  // exact, from the pts of the frames it holds
  bool independent = false;    // starts with the segment's IDR
  std::string codecs;          // as the segment's: known from the first part, so an LL master can be served before any segment
  std::vector<uint8_t> data;
};

// fMP4: ftyp + moov of one rendition, before any of its parts or segments.
struct InitOutput {
  int rendition = 0;
  std::string codecs;
  std::string path;  // set when written to outputDir too
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
  virtual void onPart(PartOutput&& part) {}
  virtual void onInit(InitOutput&& init) {}
  virtual void onThumbnail(ThumbnailOutput&& thumbnail) {}
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
