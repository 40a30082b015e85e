// Timed metadata written from JS (encoder.writeMetadata): an ID3v2 tag due at a time on the run's
// clock, carried in band by every rendition: a timed ID3 PES in MPEG-TS, an emsg box in fMP4.
#pragma once

#include <cstdint>
#include <vector>

namespace abrcast {

struct TimedMetadata {
  double time = 0;       // seconds from the start of the run, as a segment's startPts
  double duration = -1;  // seconds; negative: unknown
  uint32_t id = 0;       // emsg id
  std::vector<uint8_t> id3;
};

}  // namespace abrcast
