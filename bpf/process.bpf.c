/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probe group `process`: process.exec, process.exit, process.fork. */
#include "common.bpf.h"

#define PT_EXEC_MAX_SIZE (sizeof(struct pt_exec) + PT_ARGV_MAX)

/* process.exec records are up to 4.4 KiB: built here, not on the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[PT_EXEC_MAX_SIZE]);
} exec_scratch SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 zero = 0;
	struct pt_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long arg_start, arg_end, want;
	__u32 argv_len = 0, size, off;
	long n;

	if (!e)
		return 0;
	pt_fill_header(&e->h, PT_EVENT_PROCESS_EXEC, 0);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->parent_start_ns = BPF_CORE_READ(task, real_parent, group_leader, start_boottime);
	e->_reserved = 0;

	__builtin_memset(e->filename, 0, sizeof(e->filename));
	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      (void *)ctx + (BPF_CORE_READ(ctx, __data_loc_filename) & 0xFFFF));
	e->filename_len = n > 0 ? n - 1 : 0;
	if (n == sizeof(e->filename))
		e->h.flags |= PT_FLAG_FILENAME_TRUNCATED;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	want = arg_end > arg_start ? arg_end - arg_start : 0;
	if (want > pt_argv_bytes) {
		want = pt_argv_bytes;
		e->h.flags |= PT_FLAG_ARGV_TRUNCATED;
	}
	/* Leave room for 8 bytes of zeroed padding in the scratch record. */
	if (want > PT_ARGV_MAX - 8)
		want = PT_ARGV_MAX - 8;
	want &= PT_ARGV_MAX - 1; /* a bound the verifier can see */
	if (want > 0 && bpf_probe_read_user((__u8 *)(e + 1), want, (void *)arg_start) == 0)
		argv_len = want;
	e->argv_len = argv_len;
	off = sizeof(*e) + (argv_len & (PT_ARGV_MAX - 1));
	if (off <= PT_EXEC_MAX_SIZE - 8)
		*(__u64 *)((__u8 *)e + off) = 0; /* zero the alignment padding */
	size = (sizeof(*e) + argv_len + 7) & ~7u;
	if (size > PT_EXEC_MAX_SIZE)
		size = PT_EXEC_MAX_SIZE;
	e->h.size = size;
	if (!pt_admit(e->h.cgroup_id, PT_EVENT_PROCESS_EXEC))
		return 0;
	if (bpf_ringbuf_output(&events, e, size, pt_flags_for_submit()) != 0)
		pt_count_loss(PT_EVENT_PROCESS_EXEC);
	return 0;
}

/*
 * exit and fork are the hottest records (two per short-lived process): tp_btf programs (no perf
 * trace buffer is filled before they run, unlike a classic tracepoint) reading the task through
 * its BTF pointer with plain loads instead of probe-read helper calls.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct pt_exit *e;

	if (task->tgid != task->pid)
		return 0; /* a thread, not the process */
	e = PT_RESERVE(struct pt_exit, PT_EVENT_PROCESS_EXIT);
	if (!e)
		return 0;
	pt_fill_header_btf(&e->h, PT_EVENT_PROCESS_EXIT, sizeof(*e), task);
	e->exit_code = (__u32)task->exit_code;
	if (e->exit_code & 0x7f)
		e->h.flags |= PT_FLAG_SIGNALED;
	e->_pad = 0;
	e->lifetime_ns = e->h.ts_ns - e->h.proc_start_ns;
	PT_SUBMIT(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pt_fork *e;

	if (child->tgid != child->pid)
		return 0; /* a new thread, not a new process */
	e = PT_RESERVE(struct pt_fork, PT_EVENT_PROCESS_FORK);
	if (!e)
		return 0;
	pt_fill_header_btf(&e->h, PT_EVENT_PROCESS_FORK, sizeof(*e), parent);
	e->child_pid = child->tgid;
	e->_pad = 0;
	e->child_start_ns = child->start_boottime;
	PT_SUBMIT(e);
	return 0;
}
