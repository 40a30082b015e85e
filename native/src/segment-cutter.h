// Where one rendition's stream is cut into segments and parts, in frames (pts ticks), apart from
// the encoder and the muxer that carry the cuts out: which frames are forced to be IDRs, which
// packets must be IDRs, where a cut goes before or after a packet, each part's and segment's
// index, start and duration, and the exact end under audio.shortest. No FFmpeg: it is tested by
// test/native/segment-cutter-check.cc without x264.
//
// The rules: a segment starts at every multiple of framesPerSegment, on an IDR, in every
// rendition alike. With parts (framesPerPart > 0), a part ends where the frames muxed in the
// segment are exactly those shown before some pts (a frame boundary in presentation order too)
// and the part would otherwise grow past framesPerPart: without B-frames every framesPerPart
// frames; with them at the last B-frame group that fits (a longer group makes a part of its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace abrcast {

class SegmentCutter {
 public:
  // A cut at `pts`: the running part ends there, and the segment too when `segmentEnds`.
  struct Cut {
    int64_t pts = -1;  // -1: no cut
    bool segmentEnds = false;
    explicit operator bool() const { return pts >= 0; }
  };
  // Where a part or a segment lies, once it is cut.
  struct Span {
    int segmentIndex = 0;
    int partIndex = 0;  // parts only
    int64_t startFrame = 0;
    int64_t durationFrames = 0;
  };

  // `rendition` names it in errors. framesPerPart 0: no parts.
  SegmentCutter(std::string rendition, int64_t framesPerSegment, int64_t framesPerPart);

  bool parts() const { return framesPerPart_ > 0; }
  // Frame `pts` starts a segment: the encoder forces an IDR there.
  bool startsSegment(int64_t pts) const { return pts % framesPerSegment_ == 0; }
  // Throws unless a packet that starts a segment (`pts`) is an IDR: a rendition that skipped a
  // forced IDR would merge two segments and drift from the others' indexes. `data` is Annex B.
  void checkSegmentStart(int64_t pts, bool keyframe, const uint8_t* data, size_t size) const;

  // The cut due before a packet (`pts`, `keyframe`) is muxed: at a forced IDR the segment ends
  // (in decode order, every frame shown before it is already written); with parts, a part ends
  // before the packet that would make it too long.
  Cut cutBefore(int64_t pts, bool keyframe) const;
  // Records a muxed video packet.
  void written(int64_t pts);
  // The cut due once the packets muxed so far fill the running part or segment, in presentation
  // order: a frame interval sooner than cutBefore() on the next packet.
  Cut cutWhenFull() const;

  // Ends the running part at `pts` and says where it lay; the next part starts there.
  Span endPart(int64_t pts);
  // Ends the running segment at `pts` and says where it lay; the next segment starts there.
  Span endSegment(int64_t pts);

  // The pts just past the last frame muxed.
  int64_t endPts() const { return endPts_; }
  // Frames muxed after the last cut of a part.
  bool partLeft() const { return endPts_ > partStart_; }
  // The running segment has packets (so the end of the stream emits it).
  bool segmentHasPackets() const { return segmentHasPackets_; }

  // audio.shortest: the largest end (in frames, at most `proposed`, not before what is muxed) at
  // which the frames shown before it are exactly a decode-order prefix of the packets not yet
  // muxed (`pendingPts`, in decode order), so cutting there drops no frame a kept one refers to.
  int64_t exactEndAtOrBefore(int64_t proposed, const std::vector<int64_t>& pendingPts) const;
  // How many of the pending packets are shown before `end`; throws when those are not a
  // decode-order prefix, or when frames at or after `end` are already muxed.
  size_t pendingBefore(int64_t end, const std::vector<int64_t>& pendingPts) const;

 private:
  const std::string rendition_;
  const int64_t framesPerSegment_;
  const int64_t framesPerPart_;
  int segmentIndex_ = 0;
  int64_t segmentStart_ = 0;
  int64_t endPts_ = 0;  // pts just past the last frame written
  bool segmentHasPackets_ = false;
  int64_t segmentFrames_ = 0;  // video packets muxed into the running segment
  int partIndex_ = 0;          // of the running part within the segment
  int64_t partStart_ = 0;      // pts of its first frame
};

}  // namespace abrcast
