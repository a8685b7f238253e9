// podtrace_native: argument checks and exports only.
//   Tracer          — load/attach the probe groups, drain the ring buffer in batches (tracer.cc)
//   layout()        — sizes and offsets of every shared struct (layout.h)
//   clockOffsetNs() — CLOCK_REALTIME minus CLOCK_BOOTTIME, ns
//   recordVersion   — PT_RECORD_VERSION
#include <napi.h>
#include <time.h>

#include <cstddef>

#include "layout.h"
#include "tracer.h"

namespace {

Napi::Value Layout(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#define PT_STRUCT(s)                                                 \
  {                                                                  \
    Napi::Object o = Napi::Object::New(env);                         \
    o.Set("sizeof", Napi::Number::New(env, sizeof(struct s)));       \
    out.Set(#s, o);                                                  \
  }
  PT_LAYOUT_STRUCTS(PT_STRUCT)
#undef PT_STRUCT
#define PT_FIELD(s, f) out.Get(#s).As<Napi::Object>().Set(#f, Napi::Number::New(env, offsetof(struct s, f)));
  PT_LAYOUT_FIELDS(PT_FIELD)
#undef PT_FIELD
  return out;
}

double ns(const timespec &t) { return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec); }

// Realtime - boottime, sampled a few times; the sample with the tightest bracket wins.
Napi::Value ClockOffsetNs(const Napi::CallbackInfo &info) {
  double best_width = 1e18, best = 0;
  for (int i = 0; i < 5; i++) {
    timespec r1{}, b{}, r2{};
    clock_gettime(CLOCK_REALTIME, &r1);
    clock_gettime(CLOCK_BOOTTIME, &b);
    clock_gettime(CLOCK_REALTIME, &r2);
    double width = ns(r2) - ns(r1);
    if (width < best_width) {
      best_width = width;
      // Split to keep precision: (r1.sec - b.sec) * 1e9 is exact in a double.
      best = static_cast<double>(r1.tv_sec - b.tv_sec) * 1e9 +
             (static_cast<double>(r1.tv_nsec - b.tv_nsec) + width / 2);
    }
  }
  return Napi::Number::New(info.Env(), best);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Tracer", Tracer::Define(env));
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("clockOffsetNs", Napi::Function::New(env, ClockOffsetNs));
  exports.Set("recordVersion", Napi::Number::New(env, PT_RECORD_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(podtrace_native, Init)
