/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `dns`: dns.query from cgroup_skb programs on the cgroup2 root, so every container's
 * DNS traffic, over UDP and TCP, passes them. Egress (a query to one of pt_dns_ports) runs in the sending task's
 * context: the query is remembered in pt_dns_inflight, keyed by the socket cookie and the DNS id,
 * with the sender's pid/comm and the socket's cgroup, and a bpf_timer armed for the timeout.
 * Ingress (an answer from one of the ports) runs in softirq: it finds the query by socket and id
 * and emits one record with the answer message; a timer that fires first emits the query instead,
 * flagged PT_FLAG_DNS_TIMEOUT. Over TCP a segment that starts a message (after its 2-byte length
 * prefix, or on its own after a prefix-only segment) is followed; one that should start a query
 * but does not parse is counted (PT_DROP_UNPARSED), never guessed at. The programs only observe:
 * they always return 1 (pass).
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
	__u8 transport; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 _pad0;
	__u16 _pad[2];
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

struct l4_view {
	__u32 payload_off; /* UDP: the DNS message; TCP: the segment's data */
	__u16 payload_len;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 proto; /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Where the DNS message of a packet is, and how much of it the packet holds. */
struct dns_span {
	__u32 off;
	__u16 len;         /* bytes of the message in this packet */
	__u16 message_len; /* length of the whole message (TCP: its length prefix) */
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

/* Parses the IP header and the UDP or TCP header at the start of the skb (cgroup_skb sees the
 * network header first). */
static __always_inline bool parse_l4(struct __sk_buff *skb, struct l4_view *v)
{
	__u8 b[40];
	__u32 l4, total;
	__u16 udp[4];
	__u8 th[20];

	__builtin_memset(v, 0, sizeof(*v));
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, b, 20) != 0)
			return false;
		if (b[9] != IPPROTO_UDP && b[9] != IPPROTO_TCP)
			return false;
		if ((b[6] & 0x3f) != 0 || b[7] != 0)
			return false; /* a fragment: only the first carries the L4 header */
		v->proto = b[9];
		l4 = (b[0] & 0x0f) * 4;
		total = ((__u32)b[2] << 8) | b[3];
		__builtin_memcpy(v->saddr, &b[12], 4);
		__builtin_memcpy(v->daddr, &b[16], 4);
		v->family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, b, 40) != 0)
			return false;
		if (b[6] != IPPROTO_UDP && b[6] != IPPROTO_TCP)
			return false; /* extension headers are not followed */
		v->proto = b[6];
		l4 = 40;
		total = 40 + (((__u32)b[4] << 8) | b[5]);
		__builtin_memcpy(v->saddr, &b[8], 16);
		__builtin_memcpy(v->daddr, &b[24], 16);
		v->family = AF_INET6;
	} else {
		return false;
	}
	if (l4 < 20 || l4 > 60)
		return false;
	if (v->proto == IPPROTO_UDP) {
		if (bpf_skb_load_bytes(skb, l4, udp, 8) != 0)
			return false;
		v->sport = bpf_ntohs(udp[0]);
		v->dport = bpf_ntohs(udp[1]);
		if (bpf_ntohs(udp[2]) < 8 + DNS_HEADER_LEN)
			return false;
		v->payload_len = bpf_ntohs(udp[2]) - 8;
		v->payload_off = l4 + 8;
		return true;
	}
	if (bpf_skb_load_bytes(skb, l4, th, 20) != 0)
		return false;
	v->sport = ((__u16)th[0] << 8) | th[1];
	v->dport = ((__u16)th[2] << 8) | th[3];
	v->payload_off = l4 + (th[12] >> 4) * 4;
	if (v->payload_off < l4 + 20)
		return false;
	/* A zero length (BIG TCP, GSO) or one beyond the skb: what the skb holds. */
	if (total == 0 || total > skb->len)
		total = skb->len;
	v->payload_len = total > v->payload_off ? (__u16)(total - v->payload_off) : 0;
	return true;
}

/* A DNS header at `p` (12 bytes): the QR bit as wanted and exactly one question (all queries and
 * the answers to them). */
static __always_inline bool looks_like_dns(const __u8 *p, bool response)
{
	return ((p[2] & 0x80) != 0) == response && p[4] == 0 && p[5] == 1;
}

/* Finds the DNS message in the packet. 1: found; 2: found, and more messages follow that are not
 * followed; 0: no DNS message starts here (a bare ACK, a
 * length prefix in a segment of its own, the continuation of a long message); -1: data that should
 * start a message but does not parse (counted by the caller, never guessed at). DNS over TCP
 * (RFC 1035 4.2.2, RFC 7766) prefixes each message with its 2-byte length; a segment holding the
 * prefix and the message's start is followed, a message split before its 12-byte header is not. */
static __always_inline int locate_dns(struct __sk_buff *skb, const struct l4_view *v, bool response,
				      struct dns_span *m)
{
	__u8 p[2 + DNS_HEADER_LEN];
	__u16 prefix;

	if (v->proto == IPPROTO_UDP) {
		m->off = v->payload_off;
		m->len = v->payload_len;
		m->message_len = v->payload_len;
		return 1;
	}
	if (v->payload_len == 0 || v->payload_len == 2)
		return 0; /* no data, or the length prefix alone: the message follows without it */
	if (v->payload_len < DNS_HEADER_LEN)
		return -1;
	if (v->payload_len >= sizeof(p)) {
		if (bpf_skb_load_bytes(skb, v->payload_off, p, sizeof(p)) != 0)
			return -1;
		prefix = ((__u16)p[0] << 8) | p[1];
		if (prefix >= DNS_HEADER_LEN && looks_like_dns(&p[2], response)) {
			m->off = v->payload_off + 2;
			m->message_len = prefix;
			if (prefix < v->payload_len - 2) {
				m->len = prefix;
				return 2; /* more messages follow in this segment (pipelined): not followed */
			}
			m->len = v->payload_len - 2;
			return 1;
		}
	} else if (bpf_skb_load_bytes(skb, v->payload_off, p, DNS_HEADER_LEN) != 0) {
		return -1;
	}
	if (looks_like_dns(p, response)) {
		/* The message without its prefix: the prefix went in the segment before. */
		m->off = v->payload_off;
		m->len = v->payload_len;
		m->message_len = v->payload_len;
		return 1;
	}
	return -1;
}

static __always_inline void swap_addresses(struct l4_view *v)
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
	e->transport = q->transport;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	__builtin_memcpy((__u8 *)(e + 1), q->query, PT_DNS_QUERY_MAX);
	PT_SUBMIT_ADMITTED(e);
	bpf_map_delete_elem(map, key);
	return 0;
}

/*
 * The cgroup a query is attributed to. The skb's cgroup is the socket's, in cgroup2. In cgroup v1
 * mode the other groups stamp the v1 controller's cgroup of the task: when the query is sent from
 * the socket owner's context (the task is in the socket's cgroup2 cgroup) that is the sender's v1
 * cgroup, read here; from any other context no task can be named, and the query is attributed to
 * no cgroup (0) rather than to the interrupted task's.
 */
static __always_inline __u64 query_cgroup(struct task_struct *task, __u64 skb_cgroup, bool owner)
{
	if (pt_cgroup_hierarchy == 0)
		return skb_cgroup;
	return owner ? pt_task_cgroup_id(task) : 0;
}

SEC("cgroup_skb/egress")
int handle_dns_egress(struct __sk_buff *skb)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct dns_key key = {};
	struct l4_view v;
	struct dns_span m = {};
	struct dns_query *q;
	__u32 zero = 0, n;
	__u16 id;
	__u64 skb_cgroup, cgroup;
	bool owner;
	int found;

	if (!parse_l4(skb, &v) || !is_dns_port(v.dport))
		return 1;
	skb_cgroup = bpf_skb_cgroup_id(skb);
	owner = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id) == skb_cgroup;
	cgroup = query_cgroup(task, skb_cgroup, owner);
	found = locate_dns(skb, &v, false, &m);
	if ((found < 0 || found == 2) && pt_in_scope(cgroup))
		pt_count_drop(PT_DROP_UNPARSED, PT_EVENT_DNS_QUERY);
	if (found <= 0)
		return 1;
	if (bpf_skb_load_bytes(skb, m.off, &id, 2) != 0)
		return 1;
	key.cookie = bpf_get_socket_cookie(skb);
	key.id = id;
	/* A retransmitted TCP segment: the query keeps the time it first left. */
	if (v.proto == IPPROTO_TCP && bpf_map_lookup_elem(&pt_dns_inflight, &key))
		return 1;
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
	if (!owner) {
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
	q->message_len = m.message_len;
	q->transport = v.proto;
	q->_pad0 = 0;
	n = m.len;
	if (n < DNS_HEADER_LEN)
		return 1;
	if (n > PT_DNS_QUERY_MAX)
		n = PT_DNS_QUERY_MAX;
	n = ((n - 1) & (PT_DNS_QUERY_MAX - 1)) + 1; /* unchanged, but provably in [1, max] for the verifier */
	__builtin_memset(q->query, 0, sizeof(q->query));
	if (bpf_skb_load_bytes(skb, m.off, q->query, n) != 0)
		return 1;
	q->query_len = n;
	__builtin_memset(q->_pad, 0, sizeof(q->_pad));

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
	struct l4_view v;
	struct dns_span m = {};
	struct dns_query *q;
	struct pt_dns *e;
	__u32 zero = 0, n, size;
	__u16 id;
	__u64 now;

	if (!parse_l4(skb, &v) || !is_dns_port(v.sport))
		return 1;
	/* What does not parse is not counted here: a long answer's later segments are not answers. */
	if (locate_dns(skb, &v, true, &m) <= 0)
		return 1;
	if (bpf_skb_load_bytes(skb, m.off, &id, 2) != 0)
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
	e->message_len = m.message_len;
	e->transport = v.proto;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	n = m.len;
	if (n < DNS_HEADER_LEN)
		goto done;
	if (n > PT_DNS_PAYLOAD_MAX)
		n = PT_DNS_PAYLOAD_MAX;
	n = ((n - 1) & (PT_DNS_PAYLOAD_MAX - 1)) + 1; /* unchanged, but provably in [1, max] */
	if (n < m.message_len)
		e->h.flags |= PT_FLAG_PAYLOAD_TRUNCATED; /* longer than captured, or beyond this segment */
	__builtin_memset((__u8 *)(e + 1), 0, PT_DNS_PAYLOAD_MAX); /* zeroes the alignment padding too */
	if (bpf_skb_load_bytes(skb, m.off, (__u8 *)(e + 1), n) != 0)
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
