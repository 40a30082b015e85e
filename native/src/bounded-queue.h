// A blocking FIFO with an optional capacity. close() wakes every waiter; after
// it, push() refuses and pop() drains what is left, then reports the end.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace abrcast {

template <typename T>
class BoundedQueue {
 public:
  // capacity 0: unbounded (push never blocks).
  explicit BoundedQueue(size_t capacity = 0) : capacity_(capacity) {}

  // Blocks while full. Returns false, leaving item untouched, when the queue is closed.
  bool push(T& item) {
    std::unique_lock<std::mutex> lock(mutex_);
    notFull_.wait(lock, [&] { return closed_ || capacity_ == 0 || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    notEmpty_.notify_one();
    return true;
  }

  // Blocks until an item or the end. std::nullopt means closed and empty.
  std::optional<T> pop(size_t* sizeAfter = nullptr) {
    std::unique_lock<std::mutex> lock(mutex_);
    notEmpty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    if (sizeAfter) *sizeAfter = items_.size();
    notFull_.notify_one();
    return item;
  }

  // Closing keeps queued items for pop(); discard() drops them too.
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    notEmpty_.notify_all();
    notFull_.notify_all();
  }

  void discard() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    items_.clear();
    notEmpty_.notify_all();
    notFull_.notify_all();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable notEmpty_;
  std::condition_variable notFull_;
  std::deque<T> items_;
  size_t capacity_;
  bool closed_ = false;
};

}  // namespace abrcast
