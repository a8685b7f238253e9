/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and helpers every podtrace program shares. Each probe group is its own object; the loader
 * creates `events` and `losses` once and hands the same fds to every object (bpf_map__reuse_fd),
 * so all groups write to one ring buffer and one loss table.
 */
#ifndef PODTRACE_COMMON_BPF_H
#define PODTRACE_COMMON_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "podtrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load (read-only data). */
const volatile __u32 pt_argv_bytes = 512;
/* Wake the consumer only once this much data waits; below it, records are submitted silently and the
 * consumer drains on its own interval (no per-record wakeup: ~4x cheaper for the traced process). */
const volatile __u64 pt_wakeup_bytes = 1 << 20;
/* Attribution hierarchy: 0 = cgroup2 (the default); > 0 = the cgroup v1 hierarchy of the controller
 * whose subsystem id is pt_cgroup_v1_ssid (cgroup v1 nodes such as Amazon Linux 2). */
const volatile __u32 pt_cgroup_hierarchy = 0;
const volatile __u32 pt_cgroup_v1_ssid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

/* Failed ring-buffer reserves, per CPU and kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_EVENT_KIND_MAX + 1);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void pt_count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &kind);
	if (n)
		*n += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline __u64 pt_flags_for_submit(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= pt_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
										  : BPF_RB_NO_WAKEUP;
}

#define PT_MAX_SUBSYS 16

/* The task's cgroup id in the attribution hierarchy (see pt_cgroup_hierarchy). */
static __always_inline __u64 pt_task_cgroup_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css = NULL;
	struct css_set *cs;

	if (pt_cgroup_hierarchy == 0)
		return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	/* css_set.subsys[] is indexed by a run-time subsystem id: read it by offset. */
	cs = BPF_CORE_READ(task, cgroups);
	if (!cs || pt_cgroup_v1_ssid >= PT_MAX_SUBSYS)
		return 0;
	bpf_probe_read_kernel(&css, sizeof(css),
			      (void *)cs + bpf_core_field_offset(struct css_set, subsys) +
				      pt_cgroup_v1_ssid * sizeof(void *));
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline __u64 pt_current_cgroup_id(void)
{
	if (pt_cgroup_hierarchy == 0)
		return bpf_get_current_cgroup_id();
	return pt_task_cgroup_id((struct task_struct *)bpf_get_current_task());
}

/* The process's name: the thread-group leader's comm (a thread's comm is not the process's). */
static __always_inline void pt_leader_comm(struct task_struct *task, char *comm)
{
	BPF_CORE_READ_INTO((char(*)[PT_COMM_LEN])comm, task, group_leader, comm);
}

/* Fills the header from `task` (pid, cgroup and comm of its process). */
static __always_inline void pt_fill_header_task(struct pt_header *h, __u16 kind, __u16 size,
						struct task_struct *task)
{
	h->kind = kind;
	h->size = size;
	h->flags = 0;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->pid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = pt_task_cgroup_id(task);
	h->proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	pt_leader_comm(task, h->comm);
}

/* Fills the header from the current task. */
static __always_inline void pt_fill_header(struct pt_header *h, __u16 kind, __u16 size)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	h->kind = kind;
	h->size = size;
	h->flags = 0;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = pt_current_cgroup_id();
	h->proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	pt_leader_comm(task, h->comm);
}

/* Reserves a fixed-size record, counting the loss on failure. */
#define PT_RESERVE(type, kind)                                                                       \
	({                                                                                           \
		type *__r = bpf_ringbuf_reserve(&events, sizeof(type), 0);                           \
		if (!__r)                                                                            \
			pt_count_loss(kind);                                                         \
		__r;                                                                                 \
	})

#define PT_SUBMIT(rec) bpf_ringbuf_submit((rec), pt_flags_for_submit())

#endif
