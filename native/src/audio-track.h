// The encoded AAC packets, shared by every rendition: the audio thread appends
// them once, each rendition reads them through its own cursor, and a packet is
// dropped once every rendition has passed it. Timestamps are in the encoder's
// time base (1/48000).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "ffmpeg.h"
#include "stop-token.h"

namespace abrcast {

class AudioTrack {
 public:
  // `firstPts`: the earliest pts the encoder can produce (minus its priming),
  // so that nothing before it is ever waited for.
  AudioTrack(int consumers, AVRational timeBase, int64_t firstPts);

  AVRational timeBase() const { return timeBase_; }

  // Producer side.
  void append(PacketPtr packet);
  void finish();
  // Blocks while more than `maxRetained` packets wait for the slowest consumer,
  // until `stop()` holds. Whoever changes what `stop` reads calls wake().
  void waitForRoom(size_t maxRetained, const std::function<bool()>& stop);
  void wake();
  void abort();

  // Consumer side. True when every packet with pts < `until` (in `base`) is in
  // the track, or none will follow.
  bool covers(int64_t until, AVRational base) const;
  // Blocks until the producer finished; false when aborted instead.
  bool waitFinished();
  // Hands the consumer's next packets with pts < `until` (in `base`) to `write`,
  // in order, as new references the callee may change; advances the cursor.
  void takeBefore(int consumer, int64_t until, AVRational base, const std::function<void(AVPacket*)>& write);

 private:
  void trimLocked();

  const AVRational timeBase_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PacketPtr> packets_;
  int64_t firstIndex_ = 0;      // global index of packets_.front()
  std::vector<int64_t> cursors_;  // global index of each consumer's next packet
  int64_t coveredUntil_;        // pts just past the last appended packet
  bool finished_ = false;
  StopToken stop_;
};

}  // namespace abrcast
