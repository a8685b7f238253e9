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

static __always_inline __u64 pt_task_cgroup_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
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
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	bpf_get_current_comm(h->comm, sizeof(h->comm));
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
