/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `tcp`: tcp.connect, tcp.accept, tcp.close, tcp.retransmit, all from
 * sock:inet_sock_set_state and tcp:tcp_retransmit_skb.
 *
 * TCP state changes mostly run in softirq context, where the "current" task is whatever the CPU
 * happened to run. Events are therefore attributed to the socket's owner, remembered in `owners`
 * when the owner is certain: connect() moves CLOSE → SYN_SENT in the caller's context; listen()
 * moves CLOSE → LISTEN in the caller's context and accepted children inherit the listener's owner.
 */
#include "common.bpf.h"

#define PT_OWNER_KNOWN 1       /* pid/comm are the owner's (else only the timestamps are) */
#define PT_OWNER_PREEXISTING 2 /* learned by the start-up iterator: older than podtrace */

struct pt_owner {
	__u32 pid;
	__u32 tid;
	__u64 cgroup_id;
	__u64 proc_start_ns;
	__u64 start_ns;       /* SYN_SENT / SYN_RECV time; 0 when older than podtrace */
	__u64 established_ns; /* 0 until ESTABLISHED (or when older than podtrace) */
	__u32 flags;          /* PT_OWNER_* */
	__u32 _pad;
	char comm[PT_COMM_LEN];        /* the process's (thread-group leader's) */
	char thread_comm[PT_COMM_LEN]; /* the thread's */
};

struct pt_listen_key {
	__u32 netns;
	__u16 port;
	__u16 family;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct pt_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct pt_listen_key);
	__type(value, struct pt_owner);
} listeners SEC(".maps");

static __always_inline void owner_from_task(struct pt_owner *o, struct task_struct *task, __u64 now)
{
	o->pid = BPF_CORE_READ(task, tgid);
	o->tid = BPF_CORE_READ(task, pid);
	o->cgroup_id = pt_task_cgroup_id(task);
	o->proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	o->start_ns = now;
	o->established_ns = 0;
	o->flags = PT_OWNER_KNOWN;
	o->_pad = 0;
	pt_leader_comm(task, o->comm);
	BPF_CORE_READ_INTO(&o->thread_comm, task, comm);
}

static __always_inline void owner_from_current(struct pt_owner *o, __u64 now)
{
	owner_from_task(o, (struct task_struct *)bpf_get_current_task(), now);
}

static __always_inline __u32 sock_netns(const void *sk)
{
	return BPF_CORE_READ((struct sock *)sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * The socket's own cgroup2 cgroup (set when the socket was created, inherited by accepted
 * children), 0 when unknown or when attributing through a cgroup v1 hierarchy.
 */
static __always_inline __u64 sock_cgroup_id(const void *sk)
{
	if (pt_cgroup_hierarchy != 0)
		return 0;
	if (bpf_core_type_exists(struct sock_cgroup_data) &&
	    bpf_core_field_exists(((struct sock_cgroup_data *)0)->cgroup))
		return BPF_CORE_READ((struct sock *)sk, sk_cgrp_data.cgroup, kn, id);
	{
		__u64 val = BPF_CORE_READ((struct sock___old *)sk, sk_cgrp_data.val);
		if (val == 0 || (val & 1))
			return 0; /* net_cls classid/prioidx data instead of a cgroup pointer */
		return BPF_CORE_READ((struct cgroup *)val, kn, id);
	}
}

/* Header attributed to the owner (or marked unknown), addresses copied from the tracepoint. */
static __always_inline void fill_tcp(struct pt_tcp *e, __u16 kind, const struct pt_owner *o, __u64 now,
				     const void *sk, __u16 family, __u16 sport, __u16 dport, const __u8 *s4,
				     const __u8 *d4, const __u8 *s6, const __u8 *d6, __u32 netns)
{
	__u64 sk_cgroup = sock_cgroup_id(sk);

	e->h.kind = kind;
	e->h.size = sizeof(*e);
	e->h.flags = family == AF_INET6 ? PT_FLAG_IPV6 : 0;
	e->h.cpu = (__u16)bpf_get_smp_processor_id();
	e->h.ts_ns = now;
	if (o && (o->flags & PT_OWNER_KNOWN)) {
		e->h.pid = o->pid;
		e->h.tid = o->tid;
		e->h.cgroup_id = o->cgroup_id;
		e->h.proc_start_ns = o->proc_start_ns;
		__builtin_memcpy(e->h.comm, o->comm, sizeof(e->h.comm));
		__builtin_memcpy(e->thread_comm, o->thread_comm, sizeof(e->thread_comm));
	} else {
		e->h.flags |= PT_FLAG_OWNER_UNKNOWN;
		e->h.pid = 0;
		e->h.tid = 0;
		e->h.cgroup_id = 0;
		e->h.proc_start_ns = 0;
		__builtin_memset(e->h.comm, 0, sizeof(e->h.comm));
		__builtin_memset(e->thread_comm, 0, sizeof(e->thread_comm));
	}
	/* No entry at all: the socket existed before podtrace (or its entry was evicted). */
	if (!o || (o->flags & PT_OWNER_PREEXISTING))
		e->h.flags |= PT_FLAG_PREEXISTING;
	if (sk_cgroup != 0)
		e->h.cgroup_id = sk_cgroup; /* the kernel's own record beats the owner's current cgroup */
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET6) {
		bpf_probe_read_kernel(e->saddr, 16, s6);
		bpf_probe_read_kernel(e->daddr, 16, d6);
	} else {
		bpf_probe_read_kernel(e->saddr, 4, s4);
		bpf_probe_read_kernel(e->daddr, 4, d4);
	}
	e->sport = sport;
	e->dport = dport;
	e->family = family;
	e->old_state = 0;
	e->new_state = 0;
	e->netns = netns;
	e->err = 0;
	e->duration_ns = 0;
	e->bytes_sent = 0;
	e->bytes_received = 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int handle_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)BPF_CORE_READ(ctx, skaddr);
	int oldstate = BPF_CORE_READ(ctx, oldstate), newstate = BPF_CORE_READ(ctx, newstate);
	__u16 family = BPF_CORE_READ(ctx, family), sport = BPF_CORE_READ(ctx, sport),
	      dport = BPF_CORE_READ(ctx, dport);
	__u64 now = bpf_ktime_get_boot_ns();
	struct pt_owner *o, fresh;
	struct pt_tcp *e;
	__u16 kind = 0;
	__u32 netns;

	if (BPF_CORE_READ(ctx, protocol) != IPPROTO_TCP)
		return 0;

	/* Owners are certain only in the caller's context: connect() and listen(). */
	if (newstate == TCP_SYN_SENT) {
		owner_from_current(&fresh, now);
		bpf_map_update_elem(&owners, &sk, &fresh, BPF_ANY);
		return 0;
	}
	netns = sock_netns((const void *)sk);
	if (newstate == TCP_LISTEN) {
		struct pt_listen_key lk = { .netns = netns, .port = sport, .family = family };
		owner_from_current(&fresh, now);
		bpf_map_update_elem(&listeners, &lk, &fresh, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE) {
		struct pt_listen_key lk = { .netns = netns, .port = sport, .family = family };
		bpf_map_delete_elem(&listeners, &lk);
		return 0;
	}
	if (newstate == TCP_SYN_RECV) {
		/* A child socket of a listener: it inherits the listener's owner. */
		struct pt_listen_key lk = { .netns = netns, .port = sport, .family = family };
		struct pt_owner *l = bpf_map_lookup_elem(&listeners, &lk);
		if (l) {
			fresh = *l;
			fresh.flags &= ~PT_OWNER_PREEXISTING;
		} else {
			/* Listener not known (evicted): the connection is still new, its owner is not. */
			__builtin_memset(&fresh, 0, sizeof(fresh));
		}
		fresh.start_ns = now;
		fresh.established_ns = 0;
		bpf_map_update_elem(&owners, &sk, &fresh, BPF_ANY);
		return 0;
	}

	o = bpf_map_lookup_elem(&owners, &sk);
	if (oldstate == TCP_SYN_SENT)
		kind = PT_EVENT_TCP_CONNECT; /* → ESTABLISHED, or → CLOSE on failure */
	else if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED)
		kind = PT_EVENT_TCP_ACCEPT;
	else if (newstate == TCP_CLOSE && (oldstate != TCP_SYN_RECV || o))
		kind = PT_EVENT_TCP_CLOSE;
	else
		return 0;

	e = PT_RESERVE(struct pt_tcp, kind);
	if (!e) {
		if (newstate == TCP_CLOSE)
			bpf_map_delete_elem(&owners, &sk);
		return 0;
	}
	fill_tcp(e, kind, o, now, (const void *)sk, family, sport, dport, ctx->saddr, ctx->daddr,
		 ctx->saddr_v6, ctx->daddr_v6, netns);
	e->old_state = oldstate;
	e->new_state = newstate;

	if (kind == PT_EVENT_TCP_CONNECT) {
		if (o && o->start_ns) {
			e->duration_ns = now - o->start_ns;
			o->established_ns = now;
		}
		if (newstate == TCP_CLOSE) {
			e->err = BPF_CORE_READ((struct sock *)sk, sk_err);
			bpf_map_delete_elem(&owners, &sk);
		}
	} else if (kind == PT_EVENT_TCP_ACCEPT) {
		/* SYN received → established: the child's first RTT sample is SYN-ACK sent → ACK received
		 * (the SYN → SYN-ACK step is the kernel's own, synchronous). No sample (the SYN-ACK was
		 * retransmitted, Karn): not reported. */
		__u32 srtt = BPF_CORE_READ((struct tcp_sock *)sk, srtt_us);
		e->duration_ns = (__u64)(srtt >> 3) * 1000;
		if (o)
			o->established_ns = now;
	} else {
		if (o && o->established_ns && !(o->flags & PT_OWNER_PREEXISTING))
			e->duration_ns = now - o->established_ns;
		e->bytes_sent = BPF_CORE_READ((struct tcp_sock *)sk, bytes_acked);
		e->bytes_received = BPF_CORE_READ((struct tcp_sock *)sk, bytes_received);
		bpf_map_delete_elem(&owners, &sk);
	}
	PT_SUBMIT(e);
	return 0;
}

#define EMIT_RETRANSMIT(type)                                                                        \
	do {                                                                                         \
		type *t = (type *)ctx;                                                               \
		__u64 sk = (__u64)BPF_CORE_READ(t, skaddr);                                        \
		struct pt_owner *o = bpf_map_lookup_elem(&owners, &sk);                              \
		struct pt_tcp *e = PT_RESERVE(struct pt_tcp, PT_EVENT_TCP_RETRANSMIT);               \
		if (!e)                                                                              \
			return 0;                                                                    \
		fill_tcp(e, PT_EVENT_TCP_RETRANSMIT, o, bpf_ktime_get_boot_ns(), (const void *)sk,   \
			 BPF_CORE_READ(t, family), BPF_CORE_READ(t, sport), BPF_CORE_READ(t, dport), \
			 t->saddr, t->daddr, t->saddr_v6, t->daddr_v6,                               \
			 sock_netns((const void *)sk));                                              \
		e->old_state = BPF_CORE_READ(t, state);                                            \
		e->new_state = e->old_state;                                                         \
		PT_SUBMIT(e);                                                                        \
	} while (0)

SEC("tracepoint/tcp/tcp_retransmit_skb")
int handle_tcp_retransmit(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb))
		EMIT_RETRANSMIT(struct trace_event_raw_tcp_retransmit_skb);
	else
		EMIT_RETRANSMIT(struct trace_event_raw_tcp_event_sk_skb);
	return 0;
}

/*
 * Run once by the loader right after the tracepoints are attached: every TCP socket that already
 * exists gets its owner (the process holding its file) in `owners` (or `listeners` for a listening
 * socket), marked pre-existing. One byte is written per socket learned, so the loader can count.
 * Threads sharing the leader's file table are skipped by the kernel's iterator; a socket shared by
 * several processes keeps the first (lowest pid, e.g. a pre-fork server's master).
 */
SEC("iter/task_file")
int handle_iter_task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct pt_owner o;
	struct socket *sock;
	struct sock *sk;
	__u16 family;
	__u64 key;
	char mark;

	if (!task || !file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	owner_from_task(&o, task, 0);
	o.flags |= PT_OWNER_PREEXISTING;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN) {
		struct pt_listen_key lk = {
			.netns = sock_netns(sk),
			.port = BPF_CORE_READ(sk, __sk_common.skc_num),
			.family = family,
		};
		bpf_map_update_elem(&listeners, &lk, &o, BPF_NOEXIST);
		mark = 'L';
	} else {
		key = (__u64)sk;
		bpf_map_update_elem(&owners, &key, &o, BPF_NOEXIST);
		mark = 'S';
	}
	bpf_seq_write(ctx->meta->seq, &mark, 1);
	return 0;
}
