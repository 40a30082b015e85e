#include "segment-cutter.h"

#include <algorithm>
#include <utility>

#include "codec-string.h"
#include "ffmpeg-error.h"

namespace abrcast {

SegmentCutter::SegmentCutter(std::string rendition, int64_t framesPerSegment, int64_t framesPerPart)
    : rendition_(std::move(rendition)), framesPerSegment_(framesPerSegment), framesPerPart_(framesPerPart) {
  if (framesPerSegment_ <= 0 || framesPerPart_ < 0) {
    throw FFmpegError("Rendition " + rendition_ + ": cannot cut segments of " + std::to_string(framesPerSegment_) +
                      " frames into parts of " + std::to_string(framesPerPart_));
  }
}

void SegmentCutter::checkSegmentStart(int64_t pts, bool keyframe, const uint8_t* data, size_t size) const {
  if (!startsSegment(pts) || (keyframe && containsIdrSlice(data, size))) return;
  throw FFmpegError("Rendition " + rendition_ + ": frame " + std::to_string(pts) +
                    " should be an IDR frame (the start of segment " + std::to_string(pts / framesPerSegment_) +
                    "), but the encoder did not make one where it was forced");
}

SegmentCutter::Cut SegmentCutter::cutBefore(int64_t pts, bool keyframe) const {
  if (!segmentHasPackets_) return {};
  if (keyframe && startsSegment(pts) && pts > segmentStart_) return {pts, true};
  if (!parts()) return {};
  const bool presentationPrefix = endPts_ - segmentStart_ == segmentFrames_;
  const bool partFull = pts >= partStart_ + framesPerPart_;
  if (presentationPrefix && endPts_ > partStart_ && partFull) return {endPts_, false};
  return {};
}

void SegmentCutter::written(int64_t pts) {
  endPts_ = std::max(endPts_, pts + 1);
  segmentHasPackets_ = true;
  segmentFrames_ += 1;
}

SegmentCutter::Cut SegmentCutter::cutWhenFull() const {
  if (endPts_ - segmentStart_ != segmentFrames_) return {};  // not a presentation-order prefix yet
  const bool segmentFull = endPts_ == segmentStart_ + framesPerSegment_;
  const bool partFull = parts() && endPts_ == partStart_ + framesPerPart_;
  if (!segmentFull && !partFull) return {};
  return {endPts_, segmentFull};
}

SegmentCutter::Span SegmentCutter::endPart(int64_t pts) {
  Span part{segmentIndex_, partIndex_, partStart_, pts - partStart_};
  partIndex_ += 1;
  partStart_ = pts;
  return part;
}

SegmentCutter::Span SegmentCutter::endSegment(int64_t pts) {
  Span segment{segmentIndex_, 0, segmentStart_, pts - segmentStart_};
  segmentIndex_ += 1;
  segmentStart_ = pts;
  partStart_ = pts;
  partIndex_ = 0;
  segmentHasPackets_ = false;
  segmentFrames_ = 0;
  return segment;
}

// Under `shortest` a packet is muxed only once the audio covers its whole frame, so every muxed
// packet is shown before any pending one and the first candidate, at least
// min(first pending pts, proposed), always exists.
int64_t SegmentCutter::exactEndAtOrBefore(int64_t proposed, const std::vector<int64_t>& pendingPts) const {
  int64_t best = std::min(endPts_, proposed);
  int64_t shownBefore = endPts_;  // max pts + 1 of the muxed packets and the prefix so far
  for (size_t k = 0; k <= pendingPts.size(); ++k) {
    int64_t restMin = proposed;
    for (size_t j = k; j < pendingPts.size(); ++j) restMin = std::min(restMin, pendingPts[j]);
    // Ends in [shownBefore, restMin] split the packets after the first k exactly.
    if (shownBefore <= restMin) best = std::max(best, restMin);
    if (k < pendingPts.size()) shownBefore = std::max(shownBefore, pendingPts[k] + 1);
  }
  return best;
}

size_t SegmentCutter::pendingBefore(int64_t end, const std::vector<int64_t>& pendingPts) const {
  size_t keep = 0;
  while (keep < pendingPts.size() && pendingPts[keep] < end) ++keep;
  for (size_t j = keep; j < pendingPts.size(); ++j) {
    if (pendingPts[j] < end) {
      throw FFmpegError("Rendition " + rendition_ + " cannot end exactly at frame " + std::to_string(end) +
                        ": frame " + std::to_string(pendingPts[j]) + " depends on a later one");
    }
  }
  if (endPts_ > end) {
    throw FFmpegError("Rendition " + rendition_ + " cannot end exactly at frame " + std::to_string(end) +
                      ": frames up to " + std::to_string(endPts_) + " are already muxed");
  }
  return keep;
}

}  // namespace abrcast
