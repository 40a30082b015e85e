// SegmentCutter without an encoder: packet streams as x264 hands them over (decode order, with
// and without B-frames), fed the way RenditionEncoder feeds them, and the parts and segments that
// come out. Built and run by segment-cutter.test.ts; prints each failed check and exits 1.
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "segment-cutter.h"

using abrcast::SegmentCutter;

namespace {

int checks = 0;
int failures = 0;

void expect(bool ok, const std::string& what, int line) {
  ++checks;
  if (ok) return;
  ++failures;
  std::printf("FAIL (line %d): %s\n", line, what.c_str());
}

std::string describe(int64_t value) { return std::to_string(value); }
std::string describe(const std::string& value) { return "\"" + value + "\""; }
std::string describe(const std::vector<std::string>& values) {
  std::string text = "[";
  for (const std::string& value : values) text += (text.size() > 1 ? ", " : "") + value;
  return text + "]";
}

// Each side is evaluated once: cutStream() changes the cutter it runs.
template <typename T>
void expectEqual(const T& actual, const T& expected, const char* what, int line) {
  expect(actual == expected, std::string(what) + " is " + describe(actual) + ", expected " + describe(expected), line);
}

#define EXPECT(condition) expect((condition), #condition, __LINE__)
#define EXPECT_EQ(actual, expected) expectEqual((actual), (expected), #actual, __LINE__)

// The message of what `body` throws, or "" when it throws nothing.
template <typename Body>
std::string thrown(Body body) {
  try {
    body();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

struct Packet {
  int64_t pts;
  bool keyframe;
};

// Feeds `packets` as RenditionEncoder does (a cut before the packet, the packet, a cut once full;
// at the end the part and segment left) and lists what is cut: "part S.P start+duration" and
// "segment S start+duration". Without `whenFull`, as when the audio lags: the cut once full waits
// for the audio, and the next packet's cut takes its place.
std::vector<std::string> cutStream(SegmentCutter& cutter, const std::vector<Packet>& packets, bool whenFull = true) {
  std::vector<std::string> cuts;
  const auto part = [&](int64_t pts) {
    const SegmentCutter::Span span = cutter.endPart(pts);
    if (cutter.parts()) {
      cuts.push_back("part " + std::to_string(span.segmentIndex) + "." + std::to_string(span.partIndex) + " " +
                     std::to_string(span.startFrame) + "+" + std::to_string(span.durationFrames));
    }
  };
  const auto segment = [&](int64_t pts) {
    const SegmentCutter::Span span = cutter.endSegment(pts);
    cuts.push_back("segment " + std::to_string(span.segmentIndex) + " " + std::to_string(span.startFrame) + "+" +
                   std::to_string(span.durationFrames));
  };
  const auto cutAt = [&](SegmentCutter::Cut cut) {
    if (cutter.parts() || cut.segmentEnds) part(cut.pts);
    if (cut.segmentEnds) segment(cut.pts);
  };
  for (const Packet& packet : packets) {
    if (SegmentCutter::Cut cut = cutter.cutBefore(packet.pts, packet.keyframe)) cutAt(cut);
    cutter.written(packet.pts);
    if (!whenFull) continue;
    if (SegmentCutter::Cut cut = cutter.cutWhenFull()) cutAt(cut);
  }
  const int64_t end = cutter.endPts();
  if (cutter.partLeft()) part(end);
  if (cutter.segmentHasPackets()) segment(end);
  return cuts;
}

// Frames 0..count-1 in presentation order (no B-frames), a keyframe every `keyEvery`.
std::vector<Packet> inOrder(int64_t count, int64_t keyEvery) {
  std::vector<Packet> packets;
  for (int64_t pts = 0; pts < count; ++pts) packets.push_back({pts, pts % keyEvery == 0});
  return packets;
}

void withoutParts() {
  SegmentCutter cutter("720p", 4, 0);
  EXPECT(!cutter.parts());
  EXPECT(cutter.startsSegment(0));
  EXPECT(cutter.startsSegment(8));
  EXPECT(!cutter.startsSegment(5));
  EXPECT_EQ(cutStream(cutter, inOrder(10, 4)),
            (std::vector<std::string>{"segment 0 0+4", "segment 1 4+4", "segment 2 8+2"}));
  SegmentCutter lagging("720p", 4, 0);
  EXPECT_EQ(cutStream(lagging, inOrder(10, 4), false),
            (std::vector<std::string>{"segment 0 0+4", "segment 1 4+4", "segment 2 8+2"}));
}

void partsWithoutBFrames() {
  const std::vector<std::string> expected{"part 0.0 0+2", "part 0.1 2+2", "segment 0 0+4", "part 1.0 4+2",
                                          "part 1.1 6+2", "segment 1 4+4", "part 2.0 8+2", "segment 2 8+2"};
  SegmentCutter cutter("720p", 4, 2);
  EXPECT_EQ(cutStream(cutter, inOrder(10, 4)), expected);
  // The same cuts when each waits for the next packet.
  SegmentCutter lagging("720p", 4, 2);
  EXPECT_EQ(cutStream(lagging, inOrder(10, 4), false), expected);
}

// I0 P3 B1 B2 | I4 P7 B5 B6 | I8 P9: the frames muxed are a presentation-order prefix only after
// I0 and after each B-frame group, so a part ends there: a group longer than a part is its own part.
void partsWithBFrames() {
  SegmentCutter cutter("1080p", 4, 2);
  const std::vector<Packet> packets{{0, true}, {3, false}, {1, false}, {2, false}, {4, true},
                                    {7, false}, {5, false}, {6, false}, {8, true}, {9, false}};
  EXPECT_EQ(cutStream(cutter, packets),
            (std::vector<std::string>{"part 0.0 0+1", "part 0.1 1+3", "segment 0 0+4", "part 1.0 4+1", "part 1.1 5+3",
                                      "segment 1 4+4", "part 2.0 8+2", "segment 2 8+2"}));
  // Waiting for the next packet, a B-frame group's part is cut before the next IDR.
  SegmentCutter lagging("1080p", 4, 2);
  EXPECT_EQ(cutStream(lagging, packets, false),
            (std::vector<std::string>{"part 0.0 0+1", "part 0.1 1+3", "segment 0 0+4", "part 1.0 4+1", "part 1.1 5+3",
                                      "segment 1 4+4", "part 2.0 8+2", "segment 2 8+2"}));
}

// With audio the cut once full may wait for the audio; the forced IDR then cuts the segment.
void cutBeforeTheNextIdr() {
  SegmentCutter cutter("360p", 4, 0);
  for (int64_t pts = 0; pts < 4; ++pts) {
    EXPECT(!cutter.cutBefore(pts, pts == 0));
    cutter.written(pts);
  }
  const SegmentCutter::Cut atIdr = cutter.cutBefore(4, true);
  EXPECT_EQ(atIdr.pts, int64_t(4));
  EXPECT(atIdr.segmentEnds);
  EXPECT(!cutter.cutBefore(4, false));  // not a keyframe: no segment starts there
  EXPECT(!cutter.cutBefore(5, true));   // a keyframe the cutter did not force
  const SegmentCutter::Span segment = cutter.endSegment(atIdr.pts);
  EXPECT_EQ(int64_t(segment.segmentIndex), int64_t(0));
  EXPECT_EQ(segment.durationFrames, int64_t(4));
  EXPECT(!cutter.cutBefore(8, true));  // nothing muxed in segment 1 yet
}

void idrAtEverySegmentStart() {
  SegmentCutter cutter("720p", 4, 0);
  const uint8_t idr[] = {0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0, 0, 1, 0x65, 0x88};  // SPS, IDR slice
  const uint8_t nonIdr[] = {0, 0, 0, 1, 0x41, 0x9a};                            // non-IDR slice
  EXPECT_EQ(thrown([&] { cutter.checkSegmentStart(4, true, idr, sizeof idr); }), std::string());
  EXPECT_EQ(thrown([&] { cutter.checkSegmentStart(5, false, nonIdr, sizeof nonIdr); }), std::string());
  const std::string expected =
      "Rendition 720p: frame 4 should be an IDR frame (the start of segment 1), but the encoder did not make one where it was forced";
  EXPECT_EQ(thrown([&] { cutter.checkSegmentStart(4, false, idr, sizeof idr); }), expected);
  EXPECT_EQ(thrown([&] { cutter.checkSegmentStart(4, true, nonIdr, sizeof nonIdr); }), expected);
}

// audio.shortest: frames 0-3 are muxed, P7 B5 B6 (decode order) wait for their audio.
void exactEnd() {
  SegmentCutter cutter("720p", 4, 0);
  for (int64_t pts : {0, 3, 1, 2}) cutter.written(pts);
  const std::vector<int64_t> pending{7, 5, 6};
  // B5 and B6 refer to P7: ending at 6 would keep B5 without P7, so the end moves back to 5.
  EXPECT_EQ(cutter.exactEndAtOrBefore(6, pending), int64_t(5));
  EXPECT_EQ(cutter.exactEndAtOrBefore(8, pending), int64_t(8));
  EXPECT_EQ(cutter.exactEndAtOrBefore(9, {7, 5, 6, 8}), int64_t(9));
  EXPECT_EQ(cutter.exactEndAtOrBefore(3, pending), int64_t(3));  // never past what is proposed
  EXPECT_EQ(int64_t(cutter.pendingBefore(5, pending)), int64_t(0));
  EXPECT_EQ(int64_t(cutter.pendingBefore(8, pending)), int64_t(3));
  EXPECT_EQ(thrown([&] { cutter.pendingBefore(7, pending); }),
            std::string("Rendition 720p cannot end exactly at frame 7: frame 5 depends on a later one"));
  EXPECT_EQ(thrown([&] { cutter.pendingBefore(3, pending); }),
            std::string("Rendition 720p cannot end exactly at frame 3: frames up to 4 are already muxed"));
}

void badShape() {
  EXPECT(!thrown([] { SegmentCutter("720p", 0, 0); }).empty());
  EXPECT(!thrown([] { SegmentCutter("720p", 4, -1); }).empty());
}

}  // namespace

int main() {
  withoutParts();
  partsWithoutBFrames();
  partsWithBFrames();
  cutBeforeTheNextIdr();
  idrAtEverySegmentStart();
  exactEnd();
  badShape();
  if (failures > 0) {
    std::printf("%d of %d checks failed\n", failures, checks);
    return 1;
  }
  std::printf("segment cutter: %d checks passed\n", checks);
  return 0;
}
