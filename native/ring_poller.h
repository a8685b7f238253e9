// Drains the BPF ring buffer on its own thread into batches (one contiguous byte vector holding
// many records). At most `max_pending` batches wait for JS; when they are all full the thread stops
// draining, the kernel ring fills, and the BPF programs count what they cannot reserve.
// Batches JS has copied out come back through recycle() into a fixed pool, so a steady drain
// allocates nothing.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct ring_buffer;

struct PollerOptions {
  uint32_t drain_interval_ms = 2;
  size_t batch_bytes = 1u << 20;
  size_t max_pending = 16;
};

struct PollerStats {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  uint64_t wakeups = 0;   // epoll returned because the kernel forced a wakeup
  uint64_t stalls = 0;    // times the thread waited because JS had not taken the pending batches
  uint64_t allocations = 0;  // batch buffers allocated (the pool was empty)
};

class RingPoller {
 public:
  using Batch = std::vector<uint8_t>;
  // `notify` is called on the poller thread when a batch becomes available (cheap, non-blocking).
  RingPoller(int ring_fd, PollerOptions options, std::function<void()> notify);
  ~RingPoller();
  RingPoller(const RingPoller &) = delete;
  RingPoller &operator=(const RingPoller &) = delete;

  void start();
  // Wakes the thread through the eventfd and joins it. Records already drained stay available.
  void stop();
  // Takes every pending batch (after stop()).
  std::deque<std::unique_ptr<Batch>> take_all();
  // Takes the oldest pending batch, or null.
  std::unique_ptr<Batch> take();
  // Hands a batch back once its bytes were copied out: cleared (capacity kept) into the pool, or
  // freed when the pool already holds `max_pending + 1` (any thread).
  void recycle(std::unique_ptr<Batch> batch);
  PollerStats stats();
  // Set when the thread died on an error (message names the step and errno).
  std::string error();
  bool running() const { return running_.load(); }

 private:
  static int on_sample(void *ctx, void *data, size_t size);
  void run();
  void publish_current();
  // A batch from the pool or, when it is empty, a new one reserved to the batch size (poller thread).
  std::unique_ptr<Batch> next_batch();

  PollerOptions options_;
  std::function<void()> notify_;
  ring_buffer *rb_ = nullptr;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};

  std::mutex mu_;
  std::condition_variable space_;
  std::deque<std::unique_ptr<Batch>> pending_;
  std::vector<std::unique_ptr<Batch>> pool_;  // recycled, empty, reserved
  std::unique_ptr<Batch> current_;  // poller thread only
  uint64_t unpublished_records_ = 0;  // poller thread only
  PollerStats stats_;
  std::string error_;
};
