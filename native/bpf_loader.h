// Opens, configures, loads and attaches the BPF object of each probe group. All groups share one
// ring buffer and one loss table (the first object creates them, the others reuse the fds).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_link;
struct bpf_program;

struct LoaderOptions {
  std::string object_dir;
  std::vector<std::string> groups;    // required: failure is an error naming the group
  std::vector<std::string> optional;  // extras: failure is reported and skipped
  uint32_t ring_buffer_bytes = 8u << 20;
  uint32_t argv_bytes = 512;
  uint64_t wakeup_bytes = 4u << 20;
  // Attribution hierarchy: 0 = cgroup2; else a cgroup v1 hierarchy id and its controller's subsystem id.
  uint32_t cgroup_hierarchy = 0;
  uint32_t cgroup_v1_ssid = 0;
  // Further `const volatile` globals, by name: set in every object that declares them (size checked).
  std::map<std::string, std::vector<uint8_t>> rodata;
  // Maps resized before load, by name, in every object declaring them.
  std::map<std::string, uint32_t> map_sizes;
  // cgroup2 directory the cgroup programs (cgroup_skb/*) attach to; empty: none can attach.
  std::string cgroup_path;
};

struct HookReport {
  std::string group;
  std::string hook;    // e.g. "tracepoint/sock/inet_sock_set_state"
  bool attached;
  std::string reason;  // why it was skipped
};

class BpfLoader {
 public:
  explicit BpfLoader(LoaderOptions options);
  ~BpfLoader();
  BpfLoader(const BpfLoader &) = delete;
  BpfLoader &operator=(const BpfLoader &) = delete;

  // Loads and attaches everything; throws NativeFailure naming the group and step.
  void load();
  int ring_fd() const { return ring_fd_; }
  int losses_fd() const { return losses_fd_; }
  // fd of a map by name in any loaded object (shared maps are one map), or -1.
  int map_fd(const std::string &name) const;
  const std::vector<HookReport> &hooks() const { return hooks_; }
  // Detaches every program (no new records); maps stay until destruction.
  void detach() { links_.clear(); }
  // Failed reserves per kind, summed over CPUs.
  std::vector<uint64_t> losses() const;

 private:
  void load_group(const std::string &group, bool optional);
  // Runs a one-shot iterator program (iter/...) to its end; returns the bytes it wrote.
  static size_t run_iterator(bpf_program *prog);

  struct ObjectDeleter {
    void operator()(bpf_object *o) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link *l) const;
  };

  LoaderOptions options_;
  std::vector<std::unique_ptr<bpf_object, ObjectDeleter>> objects_;
  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links_;
  std::vector<HookReport> hooks_;
  int ring_fd_ = -1;
  int losses_fd_ = -1;
  // Maps every object declares (common.bpf.h) and shares: created by the first object, reused after.
  std::map<std::string, int> shared_fds_;
  int cgroup_fd_ = -1;
};
