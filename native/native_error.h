// An error from a syscall or libbpf, with the step that failed ("attach tracepoint sock/x").
// Thrown only on the main thread; the poller thread stores one instead.
#pragma once
#include <cstring>
#include <stdexcept>
#include <string>

struct NativeFailure : std::runtime_error {
  int err;  // positive errno
  std::string step;
  NativeFailure(std::string step_, int err_)
      : std::runtime_error(step_ + ": " + errno_name(err_) + " (" + std::strerror(err_) + ")"),
        err(err_),
        step(std::move(step_)) {}

  static std::string errno_name(int e);
};
