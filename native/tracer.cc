#include "tracer.h"

#include <bpf/libbpf.h>

#include <time.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "kernel_maps.h"
#include "native_error.h"
#include "podtrace.h"

std::string NativeFailure::errno_name(int e) {
  const char *n = strerrorname_np(e);
  return n ? n : "E" + std::to_string(e);
}

namespace {

// libbpf's log, collected while loading on the main thread, then handed to the JS logger.
std::vector<std::pair<int, std::string>> *g_libbpf_log = nullptr;

int collect_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (!g_libbpf_log) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::string line(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1) : 0);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  g_libbpf_log->emplace_back(static_cast<int>(level), line);
  return n;
}

uint32_t get_u32(const Napi::Object &o, const char *key, uint32_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be a number");
  return v.As<Napi::Number>().Uint32Value();
}

std::vector<std::string> get_strings(const Napi::Object &o, const char *key) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be an array");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).ToString().Utf8Value());
  return out;
}

std::vector<uint64_t> get_ids(Napi::Env env, const Napi::Value &v, const char *what) {
  std::vector<uint64_t> out;
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of cgroup ids");
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value x = arr.Get(i);
    if (x.IsBigInt()) {
      bool lossless = true;
      out.push_back(x.As<Napi::BigInt>().Uint64Value(&lossless));
    } else if (x.IsNumber() && x.As<Napi::Number>().DoubleValue() >= 0) {
      out.push_back(static_cast<uint64_t>(x.As<Napi::Number>().DoubleValue()));
    } else {
      throw Napi::TypeError::New(env, std::string(what) + "[" + std::to_string(i) + "] is not a cgroup id");
    }
  }
  return out;
}

Napi::Error to_js(Napi::Env env, const NativeFailure &f) {
  Napi::Error err = Napi::Error::New(env, f.what());
  err.Set("errno", Napi::Number::New(env, f.err));
  err.Set("code", Napi::String::New(env, NativeFailure::errno_name(f.err)));
  err.Set("syscall", Napi::String::New(env, f.step));
  return err;
}

}  // namespace

Napi::Function Tracer::Define(Napi::Env env) {
  return DefineClass(env, "Tracer",
                     {InstanceMethod("start", &Tracer::Start), InstanceMethod("next", &Tracer::Next),
                      InstanceMethod("nextInto", &Tracer::NextInto),
                      InstanceMethod("losses", &Tracer::Losses), InstanceMethod("stats", &Tracer::Stats),
                      InstanceMethod("close", &Tracer::Close), InstanceMethod("drops", &Tracer::Drops),
                      InstanceMethod("scopeMode", &Tracer::ScopeMode),
                      InstanceMethod("scopeUpdate", &Tracer::ScopeUpdate),
                      InstanceMethod("scopeClear", &Tracer::ScopeClear),
                      InstanceMethod("scopeList", &Tracer::ScopeList),
                      InstanceMethod("drainSched", &Tracer::DrainSched)});
}

Tracer::Tracer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Tracer>(info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "Tracer(options): options object required");
  Napi::Object o = info[0].As<Napi::Object>();
  Napi::Value dir = o.Get("objectDir");
  if (!dir.IsString()) throw Napi::TypeError::New(info.Env(), "options.objectDir must be a string");
  loader_options_.object_dir = dir.As<Napi::String>().Utf8Value();
  loader_options_.groups = get_strings(o, "probes");
  loader_options_.optional = get_strings(o, "optional");
  loader_options_.ring_buffer_bytes = get_u32(o, "ringBufferBytes", loader_options_.ring_buffer_bytes);
  loader_options_.argv_bytes = get_u32(o, "argvBytes", loader_options_.argv_bytes);
  loader_options_.cgroup_hierarchy = get_u32(o, "cgroupHierarchy", 0);
  loader_options_.cgroup_v1_ssid = get_u32(o, "cgroupV1Ssid", 0);
  loader_options_.wakeup_bytes = get_u32(o, "wakeupBytes", static_cast<uint32_t>(loader_options_.ring_buffer_bytes / 2));
  if (loader_options_.argv_bytes > PT_ARGV_MAX - 8)
    throw Napi::RangeError::New(info.Env(), "options.argvBytes must be <= " + std::to_string(PT_ARGV_MAX - 8));
  poller_options_.drain_interval_ms = get_u32(o, "drainIntervalMs", poller_options_.drain_interval_ms);
  poller_options_.batch_bytes = get_u32(o, "batchBytes", static_cast<uint32_t>(poller_options_.batch_bytes));
  poller_options_.max_pending = get_u32(o, "maxPendingBatches", static_cast<uint32_t>(poller_options_.max_pending));
  if (poller_options_.drain_interval_ms == 0 || poller_options_.max_pending == 0 || poller_options_.batch_bytes < 4096)
    throw Napi::RangeError::New(info.Env(), "drainIntervalMs and maxPendingBatches must be > 0, batchBytes >= 4096");
  Napi::Value rodata = o.Get("rodata");
  if (rodata.IsObject()) {
    Napi::Object r = rodata.As<Napi::Object>();
    Napi::Array names = r.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).ToString().Utf8Value();
      Napi::Value v = r.Get(name);
      if (!v.IsBuffer()) throw Napi::TypeError::New(info.Env(), "options.rodata." + name + " must be a Buffer");
      auto b = v.As<Napi::Buffer<uint8_t>>();
      loader_options_.rodata[name] = std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
    }
  }
  Napi::Value sizes = o.Get("mapSizes");
  if (sizes.IsObject()) {
    Napi::Object m = sizes.As<Napi::Object>();
    Napi::Array names = m.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).ToString().Utf8Value();
      loader_options_.map_sizes[name] = get_u32(m, name.c_str(), 0);
    }
  }
  Napi::Value cg = o.Get("cgroupPath");
  if (cg.IsString()) loader_options_.cgroup_path = cg.As<Napi::String>().Utf8Value();
  Napi::Value log = o.Get("log");
  if (log.IsFunction()) log_ = Napi::Persistent(log.As<Napi::Function>());
}

Tracer::~Tracer() { Shutdown(); }

Napi::Value Tracer::Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (closed_ || loader_) throw Napi::Error::New(env, "Tracer.start(): already started or closed");
  std::vector<std::pair<int, std::string>> log_lines;
  g_libbpf_log = &log_lines;
  libbpf_set_print(collect_libbpf_log);
  auto flush_log = [&] {
    g_libbpf_log = nullptr;
    if (log_.IsEmpty()) return;
    for (auto &l : log_lines) log_.Call({Napi::Number::New(env, l.first), Napi::String::New(env, l.second)});
  };
  try {
    loader_ = std::make_unique<BpfLoader>(loader_options_);
    loader_->load();
    wake_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                          "podtrace-ring", 0, 1);
    wake_live_ = true;
    poller_ = std::make_unique<RingPoller>(loader_->ring_fd(), poller_options_, [this] {
      if (want_notify_.exchange(false))
        wake_.NonBlockingCall([this](Napi::Env e, Napi::Function) { Deliver(e); });
    });
    poller_->start();
  } catch (const NativeFailure &f) {
    flush_log();
    poller_.reset();
    loader_.reset();
    if (wake_live_) {
      wake_.Release();
      wake_live_ = false;
    }
    throw to_js(env, f);
  }
  flush_log();
  Napi::Array hooks = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto &h : loader_->hooks()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("group", h.group);
    o.Set("hook", h.hook);
    o.Set("attached", h.attached);
    o.Set("reason", h.reason);
    hooks.Set(i++, o);
  }
  return hooks;
}

void Tracer::Deliver(Napi::Env env) {
  if (!waiting_) return;
  Napi::HandleScope scope(env);
  std::unique_ptr<RingPoller::Batch> batch;
  for (;;) {
    want_notify_ = true;  // before take(): a batch published after take() will notify us
    if (poller_) {
      batch = poller_->take();
    } else if (!leftover_.empty()) {
      batch = std::move(leftover_.front());
      leftover_.pop_front();
    }
    if (batch || !poller_ || !poller_->running()) break;
    return;  // keep waiting
  }
  want_notify_ = false;
  auto deferred = std::move(waiting_);
  Napi::Buffer<uint8_t> target;
  if (!target_.IsEmpty()) {
    target = target_.Value();
    target_.Reset();
  }
  if (!batch) {
    std::string err = poller_ ? poller_->error() : last_error_;
    if (!err.empty()) {
      deferred->Reject(Napi::Error::New(env, "ring buffer poller stopped: " + err).Value());
      return;
    }
    deferred->Resolve(env.Null());
    return;
  }
  if (!target.IsEmpty() && batch->size() <= target.Length()) {
    // Copied into the caller's buffer: the batch goes back to the pool at once, nothing for the GC.
    std::memcpy(target.Data(), batch->data(), batch->size());
    deferred->Resolve(Napi::Number::New(env, static_cast<double>(batch->size())));
    if (poller_) poller_->recycle(std::move(batch));
    return;
  }
  // next(), or a batch larger than the caller's buffer: hand JS the batch itself.
  auto *raw = batch.release();
  deferred->Resolve(Napi::Buffer<uint8_t>::New(env, raw->data(), raw->size(),
                                               [](Napi::Env, uint8_t *, RingPoller::Batch *b) { delete b; }, raw));
}

Napi::Value Tracer::Next(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (waiting_) throw Napi::Error::New(env, "Tracer.next(): a previous next() is still pending");
  waiting_ = std::make_unique<Napi::Promise::Deferred>(env);
  Napi::Promise p = waiting_->Promise();
  Deliver(env);
  return p;
}

Napi::Value Tracer::NextInto(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer())
    throw Napi::TypeError::New(env, "Tracer.nextInto(target): target must be a Buffer");
  if (waiting_) throw Napi::Error::New(env, "Tracer.nextInto(): a previous next() is still pending");
  waiting_ = std::make_unique<Napi::Promise::Deferred>(env);
  target_ = Napi::Persistent(info[0].As<Napi::Buffer<uint8_t>>());
  Napi::Promise p = waiting_->Promise();
  Deliver(env);
  return p;
}

Napi::Value Tracer::Losses(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::vector<uint64_t> l = loader_ ? loader_->losses() : final_losses_;
  if (l.empty()) l.assign(PT_EVENT_KIND_MAX + 1, 0);
  Napi::Array out = Napi::Array::New(env, l.size());
  for (uint32_t k = 0; k < l.size(); k++) out.Set(k, Napi::Number::New(env, static_cast<double>(l[k])));
  return out;
}

Napi::Value Tracer::Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  PollerStats s = poller_ ? poller_->stats() : PollerStats{};
  Napi::Object o = Napi::Object::New(env);
  o.Set("records", static_cast<double>(s.records));
  o.Set("bytes", static_cast<double>(s.bytes));
  o.Set("batches", static_cast<double>(s.batches));
  o.Set("wakeups", static_cast<double>(s.wakeups));
  o.Set("stalls", static_cast<double>(s.stalls));
  o.Set("allocations", static_cast<double>(s.allocations));
  o.Set("running", poller_ ? poller_->running() : false);
  return o;
}

Napi::Value Tracer::Close(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!closed_) {
    closed_ = true;
    if (loader_) loader_->detach();  // no new records
    if (poller_) {
      poller_->stop();  // joins the thread after a final drain
      leftover_ = poller_->take_all();
      last_error_ = poller_->error();
    }
    if (loader_) {
      final_losses_ = loader_->losses();
      final_drops_ = kernel_maps::read_drops(loader_->map_fd("pt_drops"));
    }
    poller_.reset();  // frees the ring buffer, epoll fd and eventfd
    loader_.reset();  // closes every BPF object and map
    if (wake_live_) {
      wake_.Release();
      wake_live_ = false;
    }
    Deliver(env);  // hand the waiting next() a batch, or null
  }
  return env.Undefined();
}

int Tracer::MapFd(Napi::Env env, const char *name) const {
  int fd = loader_ ? loader_->map_fd(name) : -1;
  if (fd < 0) throw Napi::Error::New(env, std::string("Tracer: map ") + name + " not loaded (not started, or closed)");
  return fd;
}

Napi::Value Tracer::Drops(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::vector<std::vector<uint64_t>> d =
      loader_ ? kernel_maps::read_drops(loader_->map_fd("pt_drops")) : final_drops_;
  if (d.empty()) d = kernel_maps::read_drops(-1);
  Napi::Array out = Napi::Array::New(env, d.size());
  for (uint32_t r = 0; r < d.size(); r++) {
    Napi::Array row = Napi::Array::New(env, d[r].size());
    for (uint32_t k = 0; k < d[r].size(); k++) row.Set(k, Napi::Number::New(env, static_cast<double>(d[r][k])));
    out.Set(r, row);
  }
  return out;
}

Napi::Value Tracer::ScopeMode(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "scopeMode(mode): mode 0 off, 1 deny, 2 allow");
  try {
    kernel_maps::scope_set_mode(MapFd(env, "pt_scope_mode"), info[0].As<Napi::Number>().Uint32Value());
  } catch (const NativeFailure &f) {
    throw to_js(env, f);
  }
  return env.Undefined();
}

Napi::Value Tracer::ScopeUpdate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto add = get_ids(env, info.Length() > 0 ? info[0] : env.Undefined(), "scopeUpdate(add)");
  auto remove = get_ids(env, info.Length() > 1 ? info[1] : env.Undefined(), "scopeUpdate(_, remove)");
  try {
    kernel_maps::scope_update(MapFd(env, "pt_scope"), add, remove);
  } catch (const NativeFailure &f) {
    throw to_js(env, f);
  }
  return env.Undefined();
}

Napi::Value Tracer::ScopeClear(const Napi::CallbackInfo &info) {
  kernel_maps::scope_clear(MapFd(info.Env(), "pt_scope"));
  return info.Env().Undefined();
}

Napi::Value Tracer::ScopeList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto ids = kernel_maps::scope_list(MapFd(env, "pt_scope"));
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (uint32_t i = 0; i < ids.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(ids[i])));
  return out;
}

Napi::Value Tracer::DrainSched(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "drainSched(intervalNs)");
  int fd = loader_ ? loader_->map_fd("pt_rq_hist") : -1;
  if (fd < 0) return env.Null();
  timespec t{};
  clock_gettime(CLOCK_BOOTTIME, &t);
  uint64_t now = static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
  auto bytes = kernel_maps::drain_sched(fd, now, static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

void Tracer::Shutdown() {
  closed_ = true;
  if (loader_) loader_->detach();
  if (poller_) poller_->stop();
  if (wake_live_) {
    wake_.Release();
    wake_live_ = false;
  }
}
