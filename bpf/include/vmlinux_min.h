/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel types podtrace's BPF programs read, as a minimal hand-written CO-RE header.
 * Every struct carries preserve_access_index: libbpf relocates each field access against the
 * running kernel's BTF (/sys/kernel/btf/vmlinux) at load time, so offsets and ordering here do
 * not matter and the build never needs the build host's kernel headers or BTF.
 * Only the fields used are declared.
 */
#ifndef PODTRACE_VMLINUX_MIN_H
#define PODTRACE_VMLINUX_MIN_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef int pid_t;
typedef unsigned int uid_t;
typedef _Bool bool;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node {
	u64 id;
};

struct cgroup_root {
	int hierarchy_id;
};

struct cgroup {
	struct kernfs_node *kn;
	struct cgroup_root *root;
	int level;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

/* CGROUP_SUBSYS_COUNT varies by kernel config; only indexed below the count the kernel reports. */
struct css_set {
	struct cgroup_subsys_state *subsys[16];
	struct cgroup *dfl_cgrp;
};

struct percpu_counter {
	s64 count;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long total_vm;
	struct percpu_counter rss_stat[4]; /* MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int exit_code;
	u64 start_time;
	u64 start_boottime;
	char comm[16];
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	struct css_set *cgroups;
	unsigned int __state; /* `state` before Linux 5.14 (sched reads either) */
};

/* The pre-5.14 name of task_struct.__state, for CO-RE. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	unsigned short skc_family;
	volatile unsigned char skc_state;
	u16 skc_num; /* local port, host order */
	possible_net_t skc_net;
};

/* Since Linux 5.15: the socket's cgroup2 cgroup as a plain pointer. */
struct sock_cgroup_data {
	struct cgroup *cgroup;
};

/* Before 5.15: a union whose `val` is the cgroup pointer unless the low bit says "classid data". */
struct sock_cgroup_data___old {
	u64 val;
};

struct sock___old {
	struct sock_cgroup_data___old sk_cgrp_data;
};

struct sock {
	struct sock_common __sk_common;
	int sk_err;
	u16 sk_protocol;
	struct sock_cgroup_data sk_cgrp_data;
};

struct socket {
	struct sock *sk;
};

struct file;

struct tcp_sock {
	u64 bytes_received;
	u64 bytes_acked;
	u32 srtt_us; /* smoothed RTT << 3, microseconds */
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	u32 fd;
	struct file *file;
};

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

/* sched:sched_process_exec */
struct trace_event_raw_sched_process_exec {
	struct trace_entry ent;
	u32 __data_loc_filename;
	pid_t pid;
	pid_t old_pid;
};

/* sched:sched_process_exit (and the other sched_process_template events) */
struct trace_event_raw_sched_process_template {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
};

/* sock:inet_sock_set_state */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	u16 sport;
	u16 dport;
	u16 family;
	u16 protocol;
	u8 saddr[4];
	u8 daddr[4];
	u8 saddr_v6[16];
	u8 daddr_v6[16];
};

/* tcp:tcp_retransmit_skb: its own event class since Linux 6.10, tcp_event_sk_skb before. */
#define PT_TCP_SK_SKB_FIELDS                                                                         \
	struct trace_entry ent;                                                                      \
	const void *skbaddr;                                                                         \
	const void *skaddr;                                                                          \
	int state;                                                                                   \
	u16 sport;                                                                                   \
	u16 dport;                                                                                   \
	u16 family;                                                                                  \
	u8 saddr[4];                                                                                 \
	u8 daddr[4];                                                                                 \
	u8 saddr_v6[16];                                                                             \
	u8 daddr_v6[16];

struct trace_event_raw_tcp_retransmit_skb {
	PT_TCP_SK_SKB_FIELDS
};

struct trace_event_raw_tcp_event_sk_skb {
	PT_TCP_SK_SKB_FIELDS
};

/* oom:mark_victim; everything but pid only since Linux 6.8 (checked with bpf_core_field_exists) */
struct trace_event_raw_mark_victim {
	struct trace_entry ent;
	int pid;
	u32 __data_loc_comm;
	unsigned long total_vm;
	unsigned long anon_rss;
	unsigned long file_rss;
	unsigned long shmem_rss;
};

/* cgroup:cgroup_mkdir, cgroup_rmdir (and the rest of the cgroup event class) */
struct trace_event_raw_cgroup {
	struct trace_entry ent;
	int root; /* hierarchy id: 0 is cgroup2 */
	int level;
	u64 id;
	u32 __data_loc_path;
};

/* The fields of siginfo sit in an anonymous struct; CO-RE matches them through it. */
struct kernel_siginfo {
	int si_signo;
	int si_errno;
	int si_code;
};

#pragma clang attribute pop

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

enum {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT = 2,
	TCP_SYN_RECV = 3,
	TCP_FIN_WAIT1 = 4,
	TCP_FIN_WAIT2 = 5,
	TCP_TIME_WAIT = 6,
	TCP_CLOSE = 7,
	TCP_CLOSE_WAIT = 8,
	TCP_LAST_ACK = 9,
	TCP_LISTEN = 10,
	TCP_CLOSING = 11,
	TCP_NEW_SYN_RECV = 12,
};

#endif
