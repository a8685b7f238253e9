/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probe group `signal`: process.signal from tp_btf/signal_generate (runs in the sender's context). */
#include "common.bpf.h"

#define SEND_SIG_NOINFO ((struct kernel_siginfo *)0)
#define SEND_SIG_PRIV ((struct kernel_siginfo *)1)
#define SI_USER 0
#define SI_KERNEL 0x80
#define PIDTYPE_PID 0

/* Signals not reported (bit n = signal n); SIGCHLD by default, set by the loader. */
const volatile __u64 pt_signal_ignore = 1ull << 17;

SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int type, int result)
{
	struct pt_signal *e;
	__u64 target_cgroup;

	if (sig <= 0 || sig >= 64 || (pt_signal_ignore & (1ull << sig)))
		return 0;
	/* The event belongs to the target: "who signalled my pod" is the question it answers. */
	target_cgroup = pt_task_cgroup_id(task);
	if (!pt_admit(target_cgroup, PT_EVENT_PROCESS_SIGNAL))
		return 0;
	e = PT_RESERVE(struct pt_signal, PT_EVENT_PROCESS_SIGNAL);
	if (!e)
		return 0;
	pt_fill_header(&e->h, PT_EVENT_PROCESS_SIGNAL, sizeof(*e));
	if (type != PIDTYPE_PID)
		e->h.flags |= PT_FLAG_SIGNAL_GROUP;
	e->target_pid = BPF_CORE_READ(task, tgid);
	e->target_tid = BPF_CORE_READ(task, pid);
	e->target_cgroup_id = target_cgroup;
	e->target_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	e->sig = sig;
	if (info == SEND_SIG_NOINFO)
		e->code = SI_USER;
	else if (info == SEND_SIG_PRIV)
		e->code = SI_KERNEL;
	else
		e->code = BPF_CORE_READ(info, si_code);
	e->result = result;
	e->_pad = 0;
	__builtin_memset(e->target_comm, 0, sizeof(e->target_comm));
	BPF_CORE_READ_STR_INTO(&e->target_comm, task, group_leader, comm);
	PT_SUBMIT_ADMITTED(e);
	return 0;
}
