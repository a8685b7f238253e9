// The record layout shared with the BPF programs, checked at compile time here and exported to JS
// (layout()) so the TypeScript decoder can verify its offsets at start-up.
#pragma once
#include <cstddef>
#include "podtrace.h"

#define PT_CHECK(type, field, off) \
  static_assert(offsetof(type, field) == (off), #type "." #field " moved: update src/events/layout.ts")

static_assert(sizeof(struct pt_header) == 56, "pt_header size changed");
PT_CHECK(struct pt_header, kind, 0);
PT_CHECK(struct pt_header, size, 2);
PT_CHECK(struct pt_header, flags, 4);
PT_CHECK(struct pt_header, cpu, 6);
PT_CHECK(struct pt_header, pid, 8);
PT_CHECK(struct pt_header, tid, 12);
PT_CHECK(struct pt_header, ts_ns, 16);
PT_CHECK(struct pt_header, cgroup_id, 24);
PT_CHECK(struct pt_header, proc_start_ns, 32);
PT_CHECK(struct pt_header, comm, 40);

static_assert(sizeof(struct pt_exec) == 336, "pt_exec size changed");
PT_CHECK(struct pt_exec, ppid, 56);
PT_CHECK(struct pt_exec, uid, 60);
PT_CHECK(struct pt_exec, parent_start_ns, 64);
PT_CHECK(struct pt_exec, filename_len, 72);
PT_CHECK(struct pt_exec, argv_len, 74);
PT_CHECK(struct pt_exec, filename, 80);

static_assert(sizeof(struct pt_exit) == 72, "pt_exit size changed");
PT_CHECK(struct pt_exit, exit_code, 56);
PT_CHECK(struct pt_exit, lifetime_ns, 64);

static_assert(sizeof(struct pt_fork) == 72, "pt_fork size changed");
PT_CHECK(struct pt_fork, child_pid, 56);
PT_CHECK(struct pt_fork, child_start_ns, 64);

static_assert(sizeof(struct pt_tcp) == 144, "pt_tcp size changed");
PT_CHECK(struct pt_tcp, saddr, 56);
PT_CHECK(struct pt_tcp, daddr, 72);
PT_CHECK(struct pt_tcp, sport, 88);
PT_CHECK(struct pt_tcp, dport, 90);
PT_CHECK(struct pt_tcp, family, 92);
PT_CHECK(struct pt_tcp, old_state, 94);
PT_CHECK(struct pt_tcp, new_state, 95);
PT_CHECK(struct pt_tcp, netns, 96);
PT_CHECK(struct pt_tcp, err, 100);
PT_CHECK(struct pt_tcp, duration_ns, 104);
PT_CHECK(struct pt_tcp, bytes_sent, 112);
PT_CHECK(struct pt_tcp, bytes_received, 120);
PT_CHECK(struct pt_tcp, thread_comm, 128);

static_assert(sizeof(struct pt_oom) == 104, "pt_oom size changed");
PT_CHECK(struct pt_oom, victim_pid, 56);
PT_CHECK(struct pt_oom, trigger_pid, 60);
PT_CHECK(struct pt_oom, victim_cgroup_id, 64);
PT_CHECK(struct pt_oom, total_vm_pages, 72);
PT_CHECK(struct pt_oom, rss_pages, 80);
PT_CHECK(struct pt_oom, victim_comm, 88);

static_assert(sizeof(struct pt_cgroup) == 584, "pt_cgroup size changed");
PT_CHECK(struct pt_cgroup, id, 56);
PT_CHECK(struct pt_cgroup, hierarchy_id, 64);
PT_CHECK(struct pt_cgroup, level, 68);
PT_CHECK(struct pt_cgroup, path_len, 70);
PT_CHECK(struct pt_cgroup, path, 72);
static_assert(sizeof(struct pt_signal) == 112, "pt_signal size changed");
PT_CHECK(struct pt_signal, target_pid, 56);
PT_CHECK(struct pt_signal, target_tid, 60);
PT_CHECK(struct pt_signal, target_cgroup_id, 64);
PT_CHECK(struct pt_signal, target_start_ns, 72);
PT_CHECK(struct pt_signal, sig, 80);
PT_CHECK(struct pt_signal, code, 84);
PT_CHECK(struct pt_signal, result, 88);
PT_CHECK(struct pt_signal, target_comm, 96);

static_assert(sizeof(struct pt_dns) == 120, "pt_dns size changed");
PT_CHECK(struct pt_dns, query_ns, 56);
PT_CHECK(struct pt_dns, latency_ns, 64);
PT_CHECK(struct pt_dns, saddr, 72);
PT_CHECK(struct pt_dns, daddr, 88);
PT_CHECK(struct pt_dns, sport, 104);
PT_CHECK(struct pt_dns, dport, 106);
PT_CHECK(struct pt_dns, family, 108);
PT_CHECK(struct pt_dns, payload_len, 110);
PT_CHECK(struct pt_dns, message_len, 112);
PT_CHECK(struct pt_dns, transport, 114);

static_assert(sizeof(struct pt_file) == 344, "pt_file size changed");
PT_CHECK(struct pt_file, duration_ns, 56);
PT_CHECK(struct pt_file, bytes, 64);
PT_CHECK(struct pt_file, err, 72);
PT_CHECK(struct pt_file, fd, 76);
PT_CHECK(struct pt_file, op, 80);
PT_CHECK(struct pt_file, path_len, 84);
PT_CHECK(struct pt_file, path, 88);

static_assert(sizeof(struct pt_sched) == 344, "pt_sched size changed");
PT_CHECK(struct pt_sched, interval_ns, 56);
PT_CHECK(struct pt_sched, count, 64);
PT_CHECK(struct pt_sched, total_ns, 72);
PT_CHECK(struct pt_sched, max_ns, 80);
PT_CHECK(struct pt_sched, slots, 88);

// X-macro of every (struct, field) exported to JS by layout().
#define PT_LAYOUT_FIELDS(X)                                                                              \
  X(pt_header, kind) X(pt_header, size) X(pt_header, flags) X(pt_header, cpu) X(pt_header, pid)          \
  X(pt_header, tid) X(pt_header, ts_ns) X(pt_header, cgroup_id) X(pt_header, proc_start_ns)              \
  X(pt_header, comm) X(pt_exec, ppid) X(pt_exec, uid) X(pt_exec, parent_start_ns)                        \
  X(pt_exec, filename_len) X(pt_exec, argv_len) X(pt_exec, filename) X(pt_exit, exit_code)               \
  X(pt_exit, lifetime_ns) X(pt_fork, child_pid) X(pt_fork, child_start_ns) X(pt_tcp, saddr)              \
  X(pt_tcp, daddr) X(pt_tcp, sport) X(pt_tcp, dport) X(pt_tcp, family) X(pt_tcp, old_state)              \
  X(pt_tcp, new_state) X(pt_tcp, netns) X(pt_tcp, err) X(pt_tcp, duration_ns) X(pt_tcp, bytes_sent)      \
  X(pt_tcp, bytes_received) X(pt_tcp, thread_comm) X(pt_oom, victim_pid) X(pt_oom, trigger_pid)        \
  X(pt_oom, victim_cgroup_id) X(pt_oom, total_vm_pages) X(pt_oom, rss_pages) X(pt_oom, victim_comm)      \
  X(pt_cgroup, id) X(pt_cgroup, hierarchy_id) X(pt_cgroup, level) X(pt_cgroup, path_len)                 \
  X(pt_cgroup, path) PT_LAYOUT_FIELDS_BREADTH(X)

// The breadth groups' records (signal, dns, file, sched).
#define PT_LAYOUT_FIELDS_BREADTH(X)                                                                      \
  X(pt_signal, target_pid) X(pt_signal, target_tid) X(pt_signal, target_cgroup_id)                       \
  X(pt_signal, target_start_ns) X(pt_signal, sig) X(pt_signal, code) X(pt_signal, result)                \
  X(pt_signal, target_comm) X(pt_dns, query_ns) X(pt_dns, latency_ns) X(pt_dns, saddr) X(pt_dns, daddr)  \
  X(pt_dns, sport) X(pt_dns, dport) X(pt_dns, family) X(pt_dns, payload_len) X(pt_dns, message_len)      \
  X(pt_dns, transport) X(pt_file, duration_ns) X(pt_file, bytes) X(pt_file, err) X(pt_file, fd)          \
  X(pt_file, op) X(pt_file, path_len) X(pt_file, path) X(pt_sched, interval_ns) X(pt_sched, count)       \
  X(pt_sched, total_ns) X(pt_sched, max_ns) X(pt_sched, slots)

#define PT_LAYOUT_STRUCTS(X)                                                                    \
  X(pt_header) X(pt_exec) X(pt_exit) X(pt_fork) X(pt_tcp) X(pt_oom) X(pt_cgroup) X(pt_signal) X(pt_dns) \
      X(pt_file) X(pt_sched)
