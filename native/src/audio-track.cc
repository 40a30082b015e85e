#include "audio-track.h"

#include <algorithm>

namespace abrcast {

AudioTrack::AudioTrack(int consumers, AVRational timeBase, int64_t firstPts)
    : timeBase_(timeBase), cursors_(size_t(consumers), 0), coveredUntil_(firstPts) {}

void AudioTrack::append(PacketPtr packet) {
  std::lock_guard<std::mutex> lock(mutex_);
  coveredUntil_ = std::max(coveredUntil_, packet->pts + packet->duration);
  packets_.push_back(std::move(packet));
  changed_.notify_all();
}

void AudioTrack::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  finished_ = true;
  changed_.notify_all();
}

void AudioTrack::abort() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_.requestStop();
  changed_.notify_all();
}

void AudioTrack::wake() {
  std::lock_guard<std::mutex> lock(mutex_);
  changed_.notify_all();
}

void AudioTrack::waitForRoom(size_t maxRetained, const std::function<bool()>& stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return stop_.stopRequested() || packets_.size() <= maxRetained || stop(); });
}

bool AudioTrack::covers(int64_t until, AVRational base) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_ || av_compare_ts(coveredUntil_, timeBase_, until, base) >= 0;
}

bool AudioTrack::waitFinished() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return finished_ || stop_.stopRequested(); });
  return !stop_.stopRequested();
}

void AudioTrack::takeBefore(int consumer, int64_t until, AVRational base, const std::function<void(AVPacket*)>& write) {
  std::vector<PacketPtr> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t& cursor = cursors_[size_t(consumer)];
    while (cursor - firstIndex_ < int64_t(packets_.size())) {
      const AVPacket* next = packets_[size_t(cursor - firstIndex_)].get();
      if (av_compare_ts(next->pts, timeBase_, until, base) >= 0) break;
      PacketPtr copy = allocPacket();
      check(av_packet_ref(copy.get(), next), "Cannot reference audio packet");
      batch.push_back(std::move(copy));
      ++cursor;
    }
    if (!batch.empty()) trimLocked();
  }
  // Muxing happens outside the lock so the renditions never wait on each other.
  for (auto& packet : batch) write(packet.get());
}

void AudioTrack::trimLocked() {
  const int64_t slowest = *std::min_element(cursors_.begin(), cursors_.end());
  bool dropped = false;
  while (firstIndex_ < slowest && !packets_.empty()) {
    packets_.pop_front();
    ++firstIndex_;
    dropped = true;
  }
  if (dropped) changed_.notify_all();  // the producer may be waiting for room
}

}  // namespace abrcast
