/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probe group `oom`: oom.kill from oom:mark_victim. */
#include "common.bpf.h"

SEC("tracepoint/oom/mark_victim")
int handle_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct pt_oom *e = PT_RESERVE(struct pt_oom, PT_EVENT_OOM_KILL);
	__u32 loc;

	if (!e)
		return 0;
	pt_fill_header(&e->h, PT_EVENT_OOM_KILL, sizeof(*e));
	e->victim_pid = BPF_CORE_READ(ctx, pid);
	e->_pad = 0;
	/* The kernel marks the victim from the context of the task whose allocation hit the limit: for a
	 * memory-cgroup OOM that task is inside the same cgroup, so its cgroup is the victim's (user space
	 * refines it from /proc when the victim is still there). */
	e->victim_cgroup_id = e->h.cgroup_id;
	e->total_vm_pages = 0;
	e->rss_pages = 0;
	__builtin_memset(e->victim_comm, 0, sizeof(e->victim_comm));
	if (bpf_core_field_exists(ctx->total_vm)) {
		e->total_vm_pages = BPF_CORE_READ(ctx, total_vm);
		e->rss_pages = BPF_CORE_READ(ctx, anon_rss) + BPF_CORE_READ(ctx, file_rss) +
			       BPF_CORE_READ(ctx, shmem_rss);
	}
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		loc = BPF_CORE_READ(ctx, __data_loc_comm);
		bpf_probe_read_kernel_str(e->victim_comm, sizeof(e->victim_comm), (void *)ctx + (loc & 0xFFFF));
	}
	PT_SUBMIT(e);
	return 0;
}
