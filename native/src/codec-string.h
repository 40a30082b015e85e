// RFC 6381 codec strings for HLS CODECS attributes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace abrcast {

// "avc1.PPCCLL" from the first SPS in an Annex B access unit; "" if none.
std::string avcCodecString(const uint8_t* data, size_t size);

// Whether an Annex B access unit holds an IDR slice (nal_unit_type 5).
bool containsIdrSlice(const uint8_t* data, size_t size);

}  // namespace abrcast
