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
	__uint(max_entries, PT_KIND_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void pt_count_loss(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &kind);
	if (n)
		*n += 1; /* per-CPU slot: no atomics needed */
}

/* Records not produced on purpose, per CPU, reason and kind (key = reason * PT_KIND_SLOTS + kind). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PT_DROP_REASONS * PT_KIND_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} pt_drops SEC(".maps");

/* In-kernel scope, maintained by user space: cgroup id → 1 when listed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} pt_scope SEC(".maps");

/* The scope's mode (PT_SCOPE_*), set by user space. An array slot (the verifier inlines its
 * lookup): every record checks it, and with the scope off, the default, no hash lookup runs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} pt_scope_mode SEC(".maps");

/* Per-cgroup token buckets of the rate limit. */
struct pt_bucket_key {
	__u64 cgroup_id;
	__u32 kind; /* 0: the cgroup's shared bucket; a kind with its own rate has its own bucket */
	__u32 _pad;
};
struct pt_bucket {
	__s64 credit_ns; /* earned time; an event costs 1e9 / rate ns; capped at one second */
	__u64 last_ns;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pt_bucket_key);
	__type(value, struct pt_bucket);
} pt_rate SEC(".maps");

/* Events per second per cgroup (0: no limit), and per-kind overrides (0: the shared rate). */
const volatile __u32 pt_rate_per_sec = 0;
const volatile __u32 pt_rate_kind[PT_KIND_SLOTS] = {};

static __always_inline void pt_count_drop(__u32 reason, __u32 kind)
{
	__u32 key = reason * PT_KIND_SLOTS + (kind & (PT_KIND_SLOTS - 1));
	__u64 *n = bpf_map_lookup_elem(&pt_drops, &key);
	if (n)
		*n += 1;
}

/* True when the scope lets records of this cgroup through. */
static __always_inline bool pt_in_scope(__u64 cgroup_id)
{
	__u32 zero = 0;
	__u32 *mode = bpf_map_lookup_elem(&pt_scope_mode, &zero);
	bool listed;

	if (!mode || *mode == PT_SCOPE_OFF)
		return true;
	listed = bpf_map_lookup_elem(&pt_scope, &cgroup_id) != NULL;
	return *mode == PT_SCOPE_DENY ? !listed : listed;
}

/* Token bucket: true when the cgroup may produce one more record of this kind now. */
static __always_inline bool pt_within_rate(__u64 cgroup_id, __u32 kind)
{
	__u32 rate = pt_rate_kind[kind & (PT_KIND_SLOTS - 1)];
	struct pt_bucket_key key = { .cgroup_id = cgroup_id, .kind = 0, ._pad = 0 };
	struct pt_bucket *b, init;
	__u64 now, cost;
	__s64 credit;

	if (rate != 0)
		key.kind = kind;
	else
		rate = pt_rate_per_sec;
	if (rate == 0)
		return true;
	cost = 1000000000ull / rate;
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&pt_rate, &key);
	if (!b) {
		init.credit_ns = 1000000000ll - (__s64)cost; /* a new cgroup starts with a full second */
		init.last_ns = now;
		bpf_map_update_elem(&pt_rate, &key, &init, BPF_NOEXIST);
		return true;
	}
	/* Races between CPUs may admit a few extra records; never fewer. */
	credit = b->credit_ns + (__s64)(now - b->last_ns);
	if (credit > 1000000000ll)
		credit = 1000000000ll;
	b->last_ns = now;
	if (credit < (__s64)cost) {
		b->credit_ns = credit;
		return false;
	}
	b->credit_ns = credit - (__s64)cost;
	return true;
}

/* Whether a record of `kind` attributed to `cgroup_id` should be produced (scope, then rate limit);
 * what is refused is counted per reason and kind. Call before reserving ring space. */
static __always_inline bool pt_admit(__u64 cgroup_id, __u32 kind)
{
	if (!pt_in_scope(cgroup_id)) {
		pt_count_drop(PT_DROP_SCOPE, kind);
		return false;
	}
	if (!pt_within_rate(cgroup_id, kind)) {
		pt_count_drop(PT_DROP_RATE, kind);
		return false;
	}
	return true;
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

/*
 * Fills the header from `task`, the current task as a BTF pointer (a tp_btf argument): the same
 * fields as pt_fill_header, read with plain loads the verifier checks instead of probe-read calls.
 */
static __always_inline void pt_fill_header_btf(struct pt_header *h, __u16 kind, __u16 size,
					       struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;

	h->kind = kind;
	h->size = size;
	h->flags = 0;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->pid = task->tgid;
	h->tid = task->pid;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = pt_current_cgroup_id();
	h->proc_start_ns = leader->start_boottime;
	__builtin_memcpy(h->comm, leader->comm, PT_COMM_LEN);
}

/* Reserves a fixed-size record, counting the loss on failure. */
#define PT_RESERVE(type, kind)                                                                       \
	({                                                                                           \
		type *__r = bpf_ringbuf_reserve(&events, sizeof(type), 0);                           \
		if (!__r)                                                                            \
			pt_count_loss(kind);                                                         \
		__r;                                                                                 \
	})

/* Submits a reserved record if its cgroup is in scope and within its rate, else discards it (counted). */
#define PT_SUBMIT(rec)                                                                               \
	do {                                                                                         \
		if (pt_admit((rec)->h.cgroup_id, (rec)->h.kind))                                     \
			bpf_ringbuf_submit((rec), pt_flags_for_submit());                            \
		else                                                                                 \
			bpf_ringbuf_discard((rec), 0);                                               \
	} while (0)

/* Submits a record whose cgroup already passed pt_admit (checked before reserving). */
#define PT_SUBMIT_ADMITTED(rec) bpf_ringbuf_submit((rec), pt_flags_for_submit())

#endif
