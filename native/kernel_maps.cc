#include "kernel_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "native_error.h"
#include "podtrace.h"

namespace kernel_maps {

namespace {
constexpr uint64_t kNoCgroup = 0;  // never a cgroup id (kernfs ids start at 1)
constexpr uint32_t kListed = 1;

std::vector<uint64_t> keys_of(int fd) {
  std::vector<uint64_t> out;
  uint64_t key = 0, next = 0;
  uint64_t *prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    out.push_back(next);
    key = next;
    prev = &key;
    if (out.size() > (1u << 20)) break;  // a map never holds this many: stop rather than spin
  }
  return out;
}
}  // namespace

void scope_set_mode(int mode_fd, uint32_t mode) {
  if (mode > PT_SCOPE_ALLOW) throw NativeFailure("scope mode " + std::to_string(mode), EINVAL);
  const uint32_t slot = 0;
  if (bpf_map_update_elem(mode_fd, &slot, &mode, BPF_ANY) != 0) throw NativeFailure("scope: set mode", errno);
}

void scope_update(int fd, const std::vector<uint64_t> &add, const std::vector<uint64_t> &remove) {
  for (uint64_t id : remove) {
    if (id == kNoCgroup) continue;
    if (bpf_map_delete_elem(fd, &id) != 0 && errno != ENOENT) throw NativeFailure("scope: remove cgroup", errno);
  }
  for (uint64_t id : add) {
    if (id == kNoCgroup) continue;
    if (bpf_map_update_elem(fd, &id, &kListed, BPF_ANY) != 0) throw NativeFailure("scope: add cgroup", errno);
  }
}

void scope_clear(int fd) {
  for (uint64_t id : keys_of(fd)) {
    if (id != kNoCgroup) bpf_map_delete_elem(fd, &id);
  }
}

std::vector<uint64_t> scope_list(int fd) {
  std::vector<uint64_t> out;
  for (uint64_t id : keys_of(fd))
    if (id != kNoCgroup) out.push_back(id);
  return out;
}

std::vector<std::vector<uint64_t>> read_drops(int fd) {
  std::vector<std::vector<uint64_t>> out(PT_DROP_REASONS, std::vector<uint64_t>(PT_KIND_SLOTS, 0));
  int ncpu = libbpf_num_possible_cpus();
  if (fd < 0 || ncpu <= 0) return out;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  for (uint32_t r = 0; r < PT_DROP_REASONS; r++) {
    for (uint32_t k = 0; k < PT_KIND_SLOTS; k++) {
      uint32_t key = r * PT_KIND_SLOTS + k;
      if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;
      for (auto v : per_cpu) out[r][k] += v;
    }
  }
  return out;
}

std::vector<uint8_t> drain_sched(int fd, uint64_t now_boot_ns, uint64_t interval_ns) {
  std::vector<uint8_t> out;
  if (fd < 0) return out;
  for (uint64_t cgroup : keys_of(fd)) {
    pt_rq_hist h{};
    // lookup-and-delete: what a CPU adds between the two lands in the next interval, never twice.
    if (bpf_map_lookup_and_delete_elem(fd, &cgroup, &h) != 0) {
      if (bpf_map_lookup_elem(fd, &cgroup, &h) != 0) continue;
      bpf_map_delete_elem(fd, &cgroup);
    }
    if (h.count == 0) continue;
    pt_sched rec{};
    rec.h.kind = PT_EVENT_SCHED_RUNQUEUE;
    rec.h.size = sizeof(rec);
    rec.h.ts_ns = now_boot_ns;
    rec.h.cgroup_id = cgroup;
    rec.interval_ns = interval_ns;
    rec.count = h.count;
    rec.total_ns = h.total_ns;
    rec.max_ns = h.max_ns;
    std::memcpy(rec.slots, h.slots, sizeof(rec.slots));
    const auto *p = reinterpret_cast<const uint8_t *>(&rec);
    out.insert(out.end(), p, p + sizeof(rec));
  }
  return out;
}

}  // namespace kernel_maps
