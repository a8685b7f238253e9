/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `oom`: oom.kill from oom:mark_victim (tp_btf: the kernel hands the victim task).
 *
 * The OOM killer runs in the context of the task whose allocation failed, which for a pod-level or
 * global OOM is often another container than the victim's: the record therefore describes the
 * victim (pid, cgroup, comm from its task_struct) and keeps the allocating task as trigger_pid.
 */
#include "common.bpf.h"

SEC("tp_btf/mark_victim")
int BPF_PROG(handle_mark_victim, struct task_struct *victim)
{
	struct pt_oom *e = PT_RESERVE(struct pt_oom, PT_EVENT_OOM_KILL);
	struct mm_struct *mm;

	if (!e)
		return 0;
	if (!bpf_core_field_exists(((struct trace_event_raw_mark_victim *)0)->total_vm)) {
		/*
		 * Before Linux 6.8 the tracepoint passes only the victim's pid (TP_PROTO(int pid)), not its
		 * task: the record then names the victim by pid and carries the allocating task's cgroup
		 * (the victim's own for an OOM inside one container's memory limit), with no comm.
		 */
		__u32 victim_pid = (__u32)(unsigned long)victim;

		pt_fill_header(&e->h, PT_EVENT_OOM_KILL, sizeof(*e));
		e->trigger_pid = e->h.pid;
		e->h.pid = victim_pid;
		e->h.tid = victim_pid;
		e->h.proc_start_ns = 0;
		__builtin_memset(e->h.comm, 0, sizeof(e->h.comm));
		e->victim_pid = victim_pid;
		e->victim_cgroup_id = e->h.cgroup_id;
		e->total_vm_pages = 0;
		e->rss_pages = 0;
		__builtin_memset(e->victim_comm, 0, sizeof(e->victim_comm));
		PT_SUBMIT(e);
		return 0;
	}
	pt_fill_header_task(&e->h, PT_EVENT_OOM_KILL, sizeof(*e), victim);
	e->victim_pid = e->h.pid;
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	e->victim_cgroup_id = e->h.cgroup_id;
	e->total_vm_pages = 0;
	e->rss_pages = 0;
	mm = BPF_CORE_READ(victim, mm);
	if (mm) {
		e->total_vm_pages = BPF_CORE_READ(mm, total_vm);
		/* rss_stat is a percpu_counter array since 6.2; its `count` is the folded value. */
		if (bpf_core_field_exists(mm->rss_stat))
			e->rss_pages = BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
				       BPF_CORE_READ(mm, rss_stat[3].count);
	}
	BPF_CORE_READ_INTO(&e->victim_comm, victim, comm);
	PT_SUBMIT(e);
	return 0;
}
