/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `dns`: dns.query from cgroup_skb programs on the cgroup2 root, so every container's
 * UDP DNS traffic passes them. Egress (a query to one of pt_dns_ports) runs in the sending task's
 * context: the query is remembered in pt_dns_inflight, keyed by the socket cookie and the DNS id,
 * with the sender's pid/comm and the socket's cgroup, and a bpf_timer armed for the timeout.
 * Ingress (an answer from one of the ports) runs in softirq: it finds the query by socket and id
 * and emits one record with the answer message; a timer that fires first emits the query instead,
 * flagged PT_FLAG_DNS_TIMEOUT. The programs only observe: they always return 1 (pass).
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP 17
#define PT_DNS_PORTS 8
#define PT_DNS_QUERY_MAX 256
#define CLOCK_MONOTONIC 1
#define DNS_HEADER_LEN 12

const volatile __u16 pt_dns_ports[PT_DNS_PORTS] = { 53 };
const volatile __u64 pt_dns_timeout_ns = 5000000000ull;

struct dns_key {
	__u64 cookie;
	__u16 id;
	__u16 _pad[3];
};

struct dns_query {
	struct bpf_timer timer;
	struct pt_header h; /* the querying task, at query time */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 query_len; /* bytes captured in query */
	__u16 message_len;
	__u16 _pad[3];
	__u8 query[PT_DNS_QUERY_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192); /* resized by the loader: source.ebpf.dns.maxInflight */
	__type(key, struct dns_key);
	__type(value, struct dns_query);
} pt_dns_inflight SEC(".maps");

/* Builds a query entry before it is inserted (too big for the stack; a per-CPU map cannot hold timers,
 * so the scratch is plain bytes of the same size). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[sizeof(struct dns_query)]);
} pt_dns_query_scratch SEC(".maps");

#define PT_DNS_RECORD_MAX (sizeof(struct pt_dns) + PT_DNS_PAYLOAD_MAX)
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[PT_DNS_RECORD_MAX]);
} pt_dns_record_scratch SEC(".maps");

struct udp_view {
	__u32 payload_off;
	__u16 payload_len;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline bool is_dns_port(__u16 port)
{
#pragma unroll
	for (int i = 0; i < PT_DNS_PORTS; i++) {
		if (pt_dns_ports[i] != 0 && pt_dns_ports[i] == port)
			return true;
	}
	return false;
}

/* Parses the IP and UDP headers at the start of the skb (cgroup_skb sees the network header first). */
static __always_inline bool parse_udp(struct __sk_buff *skb, struct udp_view *v)
{
	__u8 b[40];
	__u32 l4;
	__u16 udp[4];

	__builtin_memset(v, 0, sizeof(*v));
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, b, 20) != 0 || b[9] != IPPROTO_UDP)
			return false;
		if ((b[6] & 0x3f) != 0 || b[7] != 0)
			return false; /* a fragment: only the first carries the UDP header */
		l4 = (b[0] & 0x0f) * 4;
		__builtin_memcpy(v->saddr, &b[12], 4);
		__builtin_memcpy(v->daddr, &b[16], 4);
		v->family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, b, 40) != 0 || b[6] != IPPROTO_UDP)
			return false; /* extension headers are not followed */
		l4 = 40;
		__builtin_memcpy(v->saddr, &b[8], 16);
		__builtin_memcpy(v->daddr, &b[24], 16);
		v->family = AF_INET6;
	} else {
		return false;
	}
	if (l4 < 20 || l4 > 60 || bpf_skb_load_bytes(skb, l4, udp, 8) != 0)
		return false;
	v->sport = bpf_ntohs(udp[0]);
	v->dport = bpf_ntohs(udp[1]);
	if (bpf_ntohs(udp[2]) < 8 + DNS_HEADER_LEN)
		return false;
	v->payload_len = bpf_ntohs(udp[2]) - 8;
	v->payload_off = l4 + 8;
	return true;
}

static __always_inline void swap_addresses(struct udp_view *v)
{
	__u8 t[16];
	__u16 p = v->sport;

	__builtin_memcpy(t, v->saddr, 16);
	__builtin_memcpy(v->saddr, v->daddr, 16);
	__builtin_memcpy(v->daddr, t, 16);
	v->sport = v->dport;
	v->dport = p;
}

static int handle_timeout(void *map, struct dns_key *key, struct dns_query *q)
{
	struct pt_dns *e;
	__u64 now = bpf_ktime_get_boot_ns();
	__u32 n = q->query_len;

	e = bpf_ringbuf_reserve(&events, sizeof(struct pt_dns) + PT_DNS_QUERY_MAX, 0);
	if (!e) {
		pt_count_loss(PT_EVENT_DNS_QUERY);
		bpf_map_delete_elem(map, key);
		return 0;
	}
	__builtin_memcpy(&e->h, &q->h, sizeof(e->h));
	e->h.size = sizeof(struct pt_dns) + PT_DNS_QUERY_MAX;
	e->h.flags |= PT_FLAG_DNS_TIMEOUT;
	e->h.cpu = (__u16)bpf_get_smp_processor_id();
	e->h.ts_ns = now;
	e->query_ns = q->h.ts_ns;
	e->latency_ns = now - q->h.ts_ns;
	__builtin_memcpy(e->saddr, q->saddr, 16);
	__builtin_memcpy(e->daddr, q->daddr, 16);
	e->sport = q->sport;
	e->dport = q->dport;
	e->family = q->family;
	e->payload_len = n > PT_DNS_QUERY_MAX ? PT_DNS_QUERY_MAX : n;
	e->message_len = q->message_len;
	e->transport = IPPROTO_UDP;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	__builtin_memcpy((__u8 *)(e + 1), q->query, PT_DNS_QUERY_MAX);
	PT_SUBMIT_ADMITTED(e);
	bpf_map_delete_elem(map, key);
	return 0;
}

SEC("cgroup_skb/egress")
int handle_dns_egress(struct __sk_buff *skb)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct dns_key key = {};
	struct udp_view v;
	struct dns_query *q;
	__u32 zero = 0, n;
	__u16 id;
	__u64 cgroup;

	if (!parse_udp(skb, &v) || !is_dns_port(v.dport))
		return 1;
	if (bpf_skb_load_bytes(skb, v.payload_off, &id, 2) != 0)
		return 1;
	cgroup = bpf_skb_cgroup_id(skb);
	if (!pt_admit(cgroup, PT_EVENT_DNS_QUERY))
		return 1;
	q = bpf_map_lookup_elem(&pt_dns_query_scratch, &zero);
	if (!q)
		return 1;
	/* The header by hand: in cgroup_skb the current task is read through CO-RE. */
	q->h.kind = PT_EVENT_DNS_QUERY;
	q->h.size = 0;
	q->h.flags = v.family == AF_INET6 ? PT_FLAG_IPV6 : 0;
	q->h.cpu = (__u16)bpf_get_smp_processor_id();
	q->h.ts_ns = bpf_ktime_get_boot_ns();
	q->h.cgroup_id = cgroup;
	q->h.pid = BPF_CORE_READ(task, tgid);
	q->h.tid = BPF_CORE_READ(task, pid);
	q->h.proc_start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	__builtin_memset(q->h.comm, 0, sizeof(q->h.comm));
	BPF_CORE_READ_STR_INTO(&q->h.comm, task, group_leader, comm);
	if (BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id) != cgroup) {
		/* Not sent from the socket owner's context (e.g. a softirq): no process to name. */
		q->h.flags |= PT_FLAG_OWNER_UNKNOWN;
		q->h.pid = 0;
		q->h.tid = 0;
		q->h.proc_start_ns = 0;
		__builtin_memset(q->h.comm, 0, sizeof(q->h.comm));
	}
	__builtin_memcpy(q->saddr, v.saddr, 16);
	__builtin_memcpy(q->daddr, v.daddr, 16);
	q->sport = v.sport;
	q->dport = v.dport;
	q->family = v.family;
	q->message_len = v.payload_len;
	n = v.payload_len;
	if (n < DNS_HEADER_LEN)
		return 1;
	if (n > PT_DNS_QUERY_MAX)
		n = PT_DNS_QUERY_MAX;
	n = ((n - 1) & (PT_DNS_QUERY_MAX - 1)) + 1; /* unchanged, but provably in [1, max] for the verifier */
	__builtin_memset(q->query, 0, sizeof(q->query));
	if (bpf_skb_load_bytes(skb, v.payload_off, q->query, n) != 0)
		return 1;
	q->query_len = n;
	__builtin_memset(q->_pad, 0, sizeof(q->_pad));

	key.cookie = bpf_get_socket_cookie(skb);
	key.id = id;
	if (bpf_map_update_elem(&pt_dns_inflight, &key, q, BPF_ANY) != 0) {
		pt_count_drop(PT_DROP_TABLE_FULL, PT_EVENT_DNS_QUERY);
		return 1;
	}
	q = bpf_map_lookup_elem(&pt_dns_inflight, &key);
	if (!q)
		return 1;
	/* -EBUSY when a retransmitted query (same socket and id) replaced the entry: the timer is re-armed. */
	bpf_timer_init(&q->timer, &pt_dns_inflight, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&q->timer, handle_timeout);
	bpf_timer_start(&q->timer, pt_dns_timeout_ns, 0);
	return 1;
}

SEC("cgroup_skb/ingress")
int handle_dns_ingress(struct __sk_buff *skb)
{
	struct dns_key key = {};
	struct udp_view v;
	struct dns_query *q;
	struct pt_dns *e;
	__u32 zero = 0, n, size;
	__u16 id;
	__u64 now;

	if (!parse_udp(skb, &v) || !is_dns_port(v.sport))
		return 1;
	if (bpf_skb_load_bytes(skb, v.payload_off, &id, 2) != 0)
		return 1;
	key.cookie = bpf_get_socket_cookie(skb);
	key.id = id;
	q = bpf_map_lookup_elem(&pt_dns_inflight, &key);
	if (!q)
		return 1; /* not a query we saw leave (sent before podtrace, untracked, or already timed out) */
	e = bpf_map_lookup_elem(&pt_dns_record_scratch, &zero);
	if (!e)
		goto done;
	now = bpf_ktime_get_boot_ns();
	__builtin_memcpy(&e->h, &q->h, sizeof(e->h));
	e->h.cpu = (__u16)bpf_get_smp_processor_id();
	e->h.ts_ns = now;
	e->query_ns = q->h.ts_ns;
	e->latency_ns = now - q->h.ts_ns;
	swap_addresses(&v); /* the answer travels server → client; the record is from the client's side */
	__builtin_memcpy(e->saddr, v.saddr, 16);
	__builtin_memcpy(e->daddr, v.daddr, 16);
	e->sport = v.sport;
	e->dport = v.dport;
	e->family = v.family;
	e->message_len = v.payload_len;
	e->transport = IPPROTO_UDP;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	n = v.payload_len;
	if (n < DNS_HEADER_LEN)
		goto done;
	if (n > PT_DNS_PAYLOAD_MAX) {
		n = PT_DNS_PAYLOAD_MAX;
		e->h.flags |= PT_FLAG_PAYLOAD_TRUNCATED;
	}
	n = ((n - 1) & (PT_DNS_PAYLOAD_MAX - 1)) + 1; /* unchanged, but provably in [1, max] */
	__builtin_memset((__u8 *)(e + 1), 0, PT_DNS_PAYLOAD_MAX); /* zeroes the alignment padding too */
	if (bpf_skb_load_bytes(skb, v.payload_off, (__u8 *)(e + 1), n) != 0)
		goto done;
	e->payload_len = n;
	size = (sizeof(*e) + n + 7) & ~7u;
	if (size > PT_DNS_RECORD_MAX)
		size = PT_DNS_RECORD_MAX;
	e->h.size = size;
	if (bpf_ringbuf_output(&events, e, size, pt_flags_for_submit()) != 0)
		pt_count_loss(PT_EVENT_DNS_QUERY);
done:
	bpf_map_delete_elem(&pt_dns_inflight, &key);
	return 1;
}
