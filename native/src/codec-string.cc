#include "codec-string.h"

#include <cstdio>

namespace abrcast {

std::string avcCodecString(const uint8_t* data, size_t size) {
  // Walk the start codes (00 00 01) to the SPS (nal_unit_type 7); its first
  // three payload bytes are profile_idc, the constraint flags and level_idc.
  for (size_t i = 0; i + 6 < size; ++i) {
    if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1) continue;
    const uint8_t nalType = data[i + 3] & 0x1f;
    if (nalType != 7) continue;
    char text[16];
    std::snprintf(text, sizeof text, "avc1.%02x%02x%02x", data[i + 4], data[i + 5], data[i + 6]);
    return text;
  }
  return "";
}

bool containsIdrSlice(const uint8_t* data, size_t size) {
  for (size_t i = 0; i + 3 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 5) return true;
  }
  return false;
}

}  // namespace abrcast
