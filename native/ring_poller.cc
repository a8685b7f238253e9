#include "ring_poller.h"

#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "native_error.h"

RingPoller::RingPoller(int ring_fd, PollerOptions options, std::function<void()> notify)
    : options_(options), notify_(std::move(notify)) {
  rb_ = ring_buffer__new(ring_fd, &RingPoller::on_sample, this, nullptr);
  if (!rb_) throw NativeFailure("ring_buffer__new", errno ? errno : EINVAL);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || stop_fd_ < 0) {
    int e = errno;
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (stop_fd_ >= 0) close(stop_fd_);
    ring_buffer__free(rb_);
    throw NativeFailure("epoll_create1/eventfd", e);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = 0;
  int rc = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb_), &ev);
  ev.data.u32 = 1;
  if (rc == 0) rc = epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  if (rc != 0) {
    int e = errno;
    close(epoll_fd_);
    close(stop_fd_);
    ring_buffer__free(rb_);
    throw NativeFailure("epoll_ctl", e);
  }
  current_ = next_batch();
}

RingPoller::~RingPoller() {
  stop();
  if (rb_) ring_buffer__free(rb_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

void RingPoller::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void RingPoller::stop() {
  if (!thread_.joinable()) return;
  {
    // Under the lock: the thread checks `stopping_` in its wait predicate while holding `mu_`, so
    // setting it unlocked could land between that check and the wait and the notify below would be
    // lost (the thread then sleeps forever with every pending batch full and join() never returns).
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  ssize_t w = write(stop_fd_, &one, sizeof(one));
  (void)w;
  space_.notify_all();
  thread_.join();
}

int RingPoller::on_sample(void *ctx, void *data, size_t size) {
  auto *self = static_cast<RingPoller *>(ctx);
  // The sample is consumed whatever we return: always keep it, then ask libbpf to pause when the
  // batch is full so the thread can publish it (and wait for room).
  Batch &b = *self->current_;
  auto *p = static_cast<uint8_t *>(data);
  b.insert(b.end(), p, p + size);
  // Records are 8-byte aligned in the ring and their sizes multiples of 8; keep that in the batch.
  size_t pad = (8 - (size & 7)) & 7;
  if (pad) b.insert(b.end(), pad, 0);
  self->unpublished_records_++;
  return b.size() >= self->options_.batch_bytes ? -1 : 0;
}

void RingPoller::publish_current() {
  if (current_->empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.records += unpublished_records_;
    stats_.bytes += current_->size();
    stats_.batches++;
    unpublished_records_ = 0;
    pending_.push_back(std::move(current_));
  }
  current_ = next_batch();
  notify_();
}

std::unique_ptr<RingPoller::Batch> RingPoller::next_batch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Batch> b = std::move(pool_.back());
      pool_.pop_back();
      return b;
    }
    stats_.allocations++;
  }
  auto b = std::make_unique<Batch>();
  b->reserve(options_.batch_bytes + 8192);
  return b;
}

void RingPoller::recycle(std::unique_ptr<Batch> batch) {
  if (!batch) return;
  batch->clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (pool_.size() < options_.max_pending + 1) pool_.push_back(std::move(batch));
}

void RingPoller::run() {
  epoll_event events[2];
  while (!stopping_) {
    {
      // Bounded hand-off: wait for JS to take a batch rather than queue without limit.
      std::unique_lock<std::mutex> lock(mu_);
      if (pending_.size() >= options_.max_pending) {
        stats_.stalls++;
        space_.wait(lock, [this] { return stopping_ || pending_.size() < options_.max_pending; });
      }
    }
    if (stopping_) break;
    int n = epoll_wait(epoll_fd_, events, 2, static_cast<int>(options_.drain_interval_ms));
    if (n < 0 && errno != EINTR) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::string("epoll_wait: ") + NativeFailure::errno_name(errno);
      break;
    }
    for (int i = 0; i < n; i++) {
      if (events[i].data.u32 != 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.wakeups++;
    }
    // Drain everything available, publishing full batches as we go.
    for (;;) {
      int rc = ring_buffer__consume(rb_);
      if (rc == -1 || (rc < 0 && current_->size() >= options_.batch_bytes)) {
        publish_current();
        std::unique_lock<std::mutex> lock(mu_);
        if (pending_.size() >= options_.max_pending) break;
        continue;
      }
      if (rc < 0) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = std::string("ring_buffer__consume: ") + NativeFailure::errno_name(-rc);
        stopping_ = true;
      }
      break;
    }
    publish_current();
  }
  // Final drain so records submitted before stop() reach JS (bounded by the ring's size).
  while (ring_buffer__consume(rb_) == -1) publish_current();
  publish_current();
  running_ = false;
  notify_();
}

std::unique_ptr<RingPoller::Batch> RingPoller::take() {
  std::unique_ptr<Batch> b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return nullptr;
    b = std::move(pending_.front());
    pending_.pop_front();
  }
  space_.notify_one();
  return b;
}

PollerStats RingPoller::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string RingPoller::error() {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

std::deque<std::unique_ptr<RingPoller::Batch>> RingPoller::take_all() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(pending_);
}
