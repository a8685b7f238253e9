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

struct pt_owner {
	__u32 pid;
	__u32 tid;
	__u64 cgroup_id;
	__u64 proc_start_ns;
	__u64 start_ns;       /* SYN_SENT / SYN_RECV time */
	__u64 established_ns; /* 0 until ESTABLISHED */
	char comm[PT_COMM_LEN];
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

static __always_inline void owner_from_current(struct pt_owner *o, __u64 now)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	o->start_ns = now;
	o->established_ns = 0;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline __u32 sock_netns(const void *sk)
{
	return BPF_CORE_READ((struct sock *)sk, __sk_common.skc_net.net, ns.inum);
}

/* Header attributed to the owner (or marked unknown), addresses copied from the tracepoint. */
static __always_inline void fill_tcp(struct pt_tcp *e, __u16 kind, const struct pt_owner *o, __u64 now,
				     __u16 family, __u16 sport, __u16 dport, const __u8 *s4, const __u8 *d4,
				     const __u8 *s6, const __u8 *d6, __u32 netns)
{
	e->h.kind = kind;
	e->h.size = sizeof(*e);
	e->h.flags = family == AF_INET6 ? PT_FLAG_IPV6 : 0;
	e->h.cpu = (__u16)bpf_get_smp_processor_id();
	e->h.ts_ns = now;
	if (o) {
		e->h.pid = o->pid;
		e->h.tid = o->tid;
		e->h.cgroup_id = o->cgroup_id;
		e->h.proc_start_ns = o->proc_start_ns;
		__builtin_memcpy(e->h.comm, o->comm, sizeof(e->h.comm));
	} else {
		e->h.flags |= PT_FLAG_OWNER_UNKNOWN;
		e->h.pid = 0;
		e->h.tid = 0;
		e->h.cgroup_id = 0;
		e->h.proc_start_ns = 0;
		__builtin_memset(e->h.comm, 0, sizeof(e->h.comm));
	}
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
			fresh.start_ns = now;
			fresh.established_ns = 0;
			bpf_map_update_elem(&owners, &sk, &fresh, BPF_ANY);
		}
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
	fill_tcp(e, kind, o, now, family, sport, dport, ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6,
		 netns);
	e->old_state = oldstate;
	e->new_state = newstate;

	if (kind == PT_EVENT_TCP_CONNECT || kind == PT_EVENT_TCP_ACCEPT) {
		if (o) {
			e->duration_ns = now - o->start_ns;
			o->established_ns = now;
		}
		if (newstate == TCP_CLOSE) {
			e->err = BPF_CORE_READ((struct sock *)sk, sk_err);
			bpf_map_delete_elem(&owners, &sk);
		}
	} else {
		if (o && o->established_ns)
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
		fill_tcp(e, PT_EVENT_TCP_RETRANSMIT, o, bpf_ktime_get_boot_ns(),                     \
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
