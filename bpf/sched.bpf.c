/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `sched`: run-queue latency (wakeup → on CPU) per cgroup, aggregated in the kernel.
 * A task's enqueue time is remembered at sched_wakeup / sched_wakeup_new, and at sched_switch when
 * it is preempted while runnable; when sched_switch puts it on a CPU, the wait goes into a log2
 * histogram of its cgroup (pt_rq_hist). Nothing goes to the ring buffer: user space takes the
 * histograms every source.ebpf.sched.intervalSeconds (and at shutdown) as sched.runqueue records.
 */
#include "common.bpf.h"

#define TASK_RUNNING 0

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* task pid (thread id) */
	__type(value, __u64);
} pt_rq_enqueued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* cgroup id */
	__type(value, struct pt_rq_hist);
} pt_rq_hist SEC(".maps");

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r >= PT_SCHED_SLOTS ? PT_SCHED_SLOTS - 1 : r;
}

static __always_inline void enqueued(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 now = bpf_ktime_get_ns();

	if (pid != 0)
		bpf_map_update_elem(&pt_rq_enqueued, &pid, &now, BPF_ANY);
}

static __always_inline bool task_runnable(struct task_struct *p)
{
	if (bpf_core_field_exists(p->__state))
		return BPF_CORE_READ(p, __state) == TASK_RUNNING;
	return BPF_CORE_READ((struct task_struct___pre514 *)p, state) == TASK_RUNNING;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	enqueued(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	enqueued(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct pt_rq_hist zero = {}, *h;
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 *start, delta, cgroup;
	__u32 slot;

	if (task_runnable(prev))
		enqueued(prev); /* preempted: back in the run queue */
	if (pid == 0)
		return 0; /* the idle task */
	start = bpf_map_lookup_elem(&pt_rq_enqueued, &pid);
	if (!start)
		return 0;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&pt_rq_enqueued, &pid);
	cgroup = pt_task_cgroup_id(next);
	if (!pt_in_scope(cgroup))
		return 0;
	h = bpf_map_lookup_elem(&pt_rq_hist, &cgroup);
	if (!h) {
		bpf_map_update_elem(&pt_rq_hist, &cgroup, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&pt_rq_hist, &cgroup);
		if (!h) {
			pt_count_drop(PT_DROP_TABLE_FULL, PT_EVENT_SCHED_RUNQUEUE);
			return 0;
		}
	}
	slot = log2_slot(delta);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->total_ns, delta);
	__sync_fetch_and_add(&h->slots[slot & (PT_SCHED_SLOTS - 1)], 1);
	if (delta > h->max_ns)
		h->max_ns = delta; /* a racing CPU may keep the smaller of two maxima: rare and harmless */
	return 0;
}
