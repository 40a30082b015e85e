// The few ISO BMFF boxes abrcast reads or writes itself around FFmpeg's mp4 muxer, without
// FFmpeg (tested on its own by test/native/fmp4-boxes-check.cc):
//   - emsg (ISO/IEC 23009-1 5.10.3.3, version 1): the mp4 muxer writes no event messages, so
//     Fmp4Segmenter puts them ahead of the moof of the fragment that covers their time;
//   - where a video sample lies in a moof/mdat fragment (tfhd/trun), for the I-frame byte ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace abrcast {

// The scheme of ID3 timed metadata carried in emsg (AOM, "Carriage of ID3 Timed Metadata in the
// Common Media Application Format"): message_data is one ID3v2 tag, value is empty.
inline constexpr const char* kId3EmsgScheme = "https://aomedia.org/emsg/ID3";

struct EmsgBox {
  std::string schemeIdUri;
  std::string value;
  uint32_t timescale = 90000;
  uint64_t presentationTime = 0;  // on the media timeline, in timescale ticks
  uint32_t eventDuration = 0xFFFFFFFF;  // 0xFFFFFFFF: unknown
  uint32_t id = 0;
  std::vector<uint8_t> messageData;
};

// The whole box (size, 'emsg', version 1, flags 0, fields in version 1's order).
std::vector<uint8_t> writeEmsgBox(const EmsgBox& box);

// Reads the emsg boxes at the top level of `bytes` (each parsed back; other boxes skipped).
// Throws FFmpegError on a truncated or malformed box.
std::vector<EmsgBox> readEmsgBoxes(const uint8_t* bytes, size_t size);

// Where sample `sampleIndex` of track `trackId` lies in a buffer of whole top-level boxes holding
// one moof and its mdat (emsg or other boxes may come before): the moof's offset and the sample's
// byte range. Data offsets are taken as moof-relative (default-base-is-moof, as the muxer writes).
struct FragmentSample {
  size_t moofOffset = 0;
  size_t offset = 0;
  size_t size = 0;
  bool sync = false;  // sample_is_non_sync_sample is 0
};
// Throws FFmpegError when the fragment has no such sample or is malformed.
FragmentSample locateFragmentSample(const uint8_t* bytes, size_t size, uint32_t trackId, size_t sampleIndex);

}  // namespace abrcast
