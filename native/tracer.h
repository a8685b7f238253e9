// The JS bridge: class Tracer { start(), next(): Promise<Buffer|null>, nextInto(target), losses(),
// stats(), close() }.
#pragma once
#include <napi.h>

#include <atomic>
#include <deque>
#include <memory>
#include <vector>

#include "bpf_loader.h"
#include "ring_poller.h"

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Tracer(const Napi::CallbackInfo &info);
  ~Tracer() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo &info);
  Napi::Value Next(const Napi::CallbackInfo &info);
  Napi::Value NextInto(const Napi::CallbackInfo &info);
  Napi::Value Losses(const Napi::CallbackInfo &info);
  Napi::Value Stats(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value Drops(const Napi::CallbackInfo &info);
  Napi::Value ScopeMode(const Napi::CallbackInfo &info);
  Napi::Value ScopeUpdate(const Napi::CallbackInfo &info);
  Napi::Value ScopeClear(const Napi::CallbackInfo &info);
  Napi::Value ScopeList(const Napi::CallbackInfo &info);
  Napi::Value DrainSched(const Napi::CallbackInfo &info);
  int MapFd(Napi::Env env, const char *name) const;

  void Shutdown();
  // Main thread: resolves the waiting next() with a batch, or null once the poller has stopped.
  void Deliver(Napi::Env env);

  LoaderOptions loader_options_;
  PollerOptions poller_options_;
  Napi::FunctionReference log_;
  std::unique_ptr<BpfLoader> loader_;
  std::unique_ptr<RingPoller> poller_;
  Napi::ThreadSafeFunction wake_;
  bool wake_live_ = false;
  std::unique_ptr<Napi::Promise::Deferred> waiting_;
  // Set while a nextInto() waits: the JS buffer the batch is copied into.
  Napi::Reference<Napi::Buffer<uint8_t>> target_;
  std::atomic<bool> want_notify_{false};
  bool closed_ = false;
  // After close(): batches drained but not yet taken, and the final loss counts.
  std::deque<std::unique_ptr<RingPoller::Batch>> leftover_;
  std::vector<uint64_t> final_losses_;
  std::vector<std::vector<uint64_t>> final_drops_;
  std::string last_error_;
};
