// User-space side of the maps the programs read or fill besides the ring: the scope (which
// cgroups produce records), the drop counters, and the run-queue histograms of `sched`.
#pragma once
#include <cstdint>
#include <vector>

namespace kernel_maps {

// pt_scope_mode (an array of one slot): the mode (PT_SCOPE_*); pt_scope: the listed cgroup ids.
void scope_set_mode(int mode_fd, uint32_t mode);
void scope_update(int fd, const std::vector<uint64_t> &add, const std::vector<uint64_t> &remove);
// Removes every listed cgroup (the mode stays).
void scope_clear(int fd);
// Listed cgroup ids (bounded by the map size).
std::vector<uint64_t> scope_list(int fd);

// pt_drops summed over CPUs: [reason][kind].
std::vector<std::vector<uint64_t>> read_drops(int fd);

// Takes every cgroup's run-queue histogram out of pt_rq_hist and returns them as pt_sched records
// (contiguous, 8-byte aligned) stamped `now_boot_ns`, covering `interval_ns`.
std::vector<uint8_t> drain_sched(int fd, uint64_t now_boot_ns, uint64_t interval_ns);

}  // namespace kernel_maps
