#include "fmp4-boxes.h"

#include <cstring>

#include "ffmpeg-error.h"

namespace abrcast {

namespace {

void put32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(value >> shift));
}

void put64(std::vector<uint8_t>& out, uint64_t value) {
  put32(out, uint32_t(value >> 32));
  put32(out, uint32_t(value));
}

// Big-endian reads with bounds checks: every box comes from a muxer, but a wrong guess about its
// layout must fail with a message, not read past the buffer.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size, const char* what) : data_(data), size_(size), what_(what) {}

  size_t position() const { return position_; }
  size_t left() const { return size_ - position_; }
  void seek(size_t position) {
    if (position > size_) fail("seeks past its end");
    position_ = position;
  }
  void skip(size_t bytes) { seek(position_ + need(bytes)); }
  uint32_t u32() {
    need(4);
    const uint8_t* p = data_ + position_;
    position_ += 4;
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
  }
  uint64_t u64() {
    const uint64_t high = u32();
    return (high << 32) | u32();
  }
  std::string cstring() {
    const void* end = std::memchr(data_ + position_, 0, left());
    if (!end) fail("has an unterminated string");
    const size_t length = size_t(static_cast<const uint8_t*>(end) - (data_ + position_));
    std::string text(reinterpret_cast<const char*>(data_ + position_), length);
    position_ += length + 1;
    return text;
  }
  [[noreturn]] void fail(const std::string& why) const { throw FFmpegError(std::string(what_) + " " + why); }

 private:
  size_t need(size_t bytes) const {
    if (bytes > left()) fail("is truncated");
    return bytes;
  }

  const uint8_t* data_;
  size_t size_;
  const char* what_;
  size_t position_ = 0;
};

struct Box {
  uint32_t type = 0;
  size_t start = 0;    // of the header
  size_t payload = 0;  // first byte after the header
  size_t end = 0;
};

constexpr uint32_t fourcc(const char (&name)[5]) {
  return (uint32_t(uint8_t(name[0])) << 24) | (uint32_t(uint8_t(name[1])) << 16) | (uint32_t(uint8_t(name[2])) << 8) |
         uint32_t(uint8_t(name[3]));
}

// The box at the reader's position, within [.., limit); leaves the reader after its header.
Box nextBox(Reader& reader, size_t limit) {
  Box box;
  box.start = reader.position();
  uint64_t size = reader.u32();
  box.type = reader.u32();
  if (size == 1) size = reader.u64();
  else if (size == 0) size = limit - box.start;  // to the end
  box.payload = reader.position();
  if (size < box.payload - box.start || box.start + size > limit) reader.fail("has a box whose size does not fit");
  box.end = box.start + size_t(size);
  return box;
}

constexpr uint32_t kNonSyncSample = 0x10000;

}  // namespace

std::vector<uint8_t> writeEmsgBox(const EmsgBox& box) {
  std::vector<uint8_t> out;
  out.reserve(8 + 4 + 4 + 8 + 4 + 4 + box.schemeIdUri.size() + box.value.size() + 2 + box.messageData.size());
  put32(out, 0);  // size, set below
  put32(out, fourcc("emsg"));
  put32(out, 1u << 24);  // version 1, flags 0
  put32(out, box.timescale);
  put64(out, box.presentationTime);
  put32(out, box.eventDuration);
  put32(out, box.id);
  out.insert(out.end(), box.schemeIdUri.begin(), box.schemeIdUri.end());
  out.push_back(0);
  out.insert(out.end(), box.value.begin(), box.value.end());
  out.push_back(0);
  out.insert(out.end(), box.messageData.begin(), box.messageData.end());
  const uint32_t size = uint32_t(out.size());
  for (int i = 0; i < 4; ++i) out[size_t(i)] = uint8_t(size >> (24 - 8 * i));
  return out;
}

std::vector<EmsgBox> readEmsgBoxes(const uint8_t* bytes, size_t size) {
  std::vector<EmsgBox> boxes;
  Reader reader(bytes, size, "The fragment");
  while (reader.left() > 0) {
    const Box box = nextBox(reader, size);
    if (box.type == fourcc("emsg")) {
      Reader body(bytes + box.payload, box.end - box.payload, "The emsg box");
      const uint32_t versionFlags = body.u32();
      if ((versionFlags >> 24) != 1) body.fail("is not version 1");
      EmsgBox emsg;
      emsg.timescale = body.u32();
      emsg.presentationTime = body.u64();
      emsg.eventDuration = body.u32();
      emsg.id = body.u32();
      emsg.schemeIdUri = body.cstring();
      emsg.value = body.cstring();
      emsg.messageData.assign(bytes + box.payload + body.position(), bytes + box.end);
      boxes.push_back(std::move(emsg));
    }
    reader.seek(box.end);
  }
  return boxes;
}

FragmentSample locateFragmentSample(const uint8_t* bytes, size_t size, uint32_t trackId, size_t sampleIndex) {
  Reader reader(bytes, size, "The fMP4 fragment");
  Box moof;
  while (reader.left() > 0) {
    const Box box = nextBox(reader, size);
    if (box.type == fourcc("moof")) {
      moof = box;
      break;
    }
    reader.seek(box.end);
  }
  if (moof.type == 0) reader.fail("has no moof");
  size_t seen = 0;  // samples of the track in earlier truns
  reader.seek(moof.payload);
  while (reader.position() < moof.end) {
    const Box traf = nextBox(reader, moof.end);
    if (traf.type != fourcc("traf")) {
      reader.seek(traf.end);
      continue;
    }
    uint32_t defaultSize = 0;
    uint32_t defaultFlags = 0;
    bool hasDefaultSize = false;
    bool hasDefaultFlags = false;
    bool ours = false;
    while (reader.position() < traf.end) {
      const Box child = nextBox(reader, traf.end);
      if (child.type == fourcc("tfhd")) {
        const uint32_t flags = reader.u32() & 0xFFFFFF;
        ours = reader.u32() == trackId;
        if (flags & 0x1) reader.skip(8);  // base_data_offset: not written with default-base-is-moof
        if (flags & 0x2) reader.skip(4);
        if (flags & 0x8) reader.skip(4);
        if (flags & 0x10) defaultSize = reader.u32(), hasDefaultSize = true;
        if (flags & 0x20) defaultFlags = reader.u32(), hasDefaultFlags = true;
      } else if (child.type == fourcc("trun") && ours) {
        const uint32_t flags = reader.u32() & 0xFFFFFF;
        const uint32_t count = reader.u32();
        int64_t dataOffset = 0;
        if (flags & 0x1) dataOffset = int32_t(reader.u32());
        uint32_t firstFlags = 0;
        const bool hasFirstFlags = flags & 0x4;
        if (hasFirstFlags) firstFlags = reader.u32();
        size_t offset = size_t(int64_t(moof.start) + dataOffset);
        for (uint32_t i = 0; i < count; ++i) {
          if (flags & 0x100) reader.skip(4);
          uint32_t sampleSize = defaultSize;
          if (flags & 0x200) sampleSize = reader.u32();
          else if (!hasDefaultSize) reader.fail("gives no sample size");
          uint32_t sampleFlags = defaultFlags;
          bool knownFlags = hasDefaultFlags;
          if (flags & 0x400) sampleFlags = reader.u32(), knownFlags = true;
          if (i == 0 && hasFirstFlags) sampleFlags = firstFlags, knownFlags = true;
          if (flags & 0x800) reader.skip(4);
          if (seen == sampleIndex) {
            if (offset + sampleSize > size) reader.fail("ends inside sample " + std::to_string(sampleIndex));
            return FragmentSample{moof.start, offset, sampleSize, knownFlags && !(sampleFlags & kNonSyncSample)};
          }
          offset += sampleSize;
          ++seen;
        }
      }
      reader.seek(child.end);
    }
    reader.seek(traf.end);
  }
  reader.fail("has no sample " + std::to_string(sampleIndex) + " of track " + std::to_string(trackId) + " (" +
              std::to_string(seen) + " found)");
}

}  // namespace abrcast
