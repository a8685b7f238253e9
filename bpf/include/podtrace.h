/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel → user record format. Declared once, here; included by the BPF programs, the native
 * addon (which static_asserts every size and offset below) and mirrored by src/events/layout.ts
 * (checked against the addon at start-up and in test/layout.test.ts).
 *
 * Every record is 8-byte aligned and starts with struct pt_header. All integers are little-endian
 * (host order on the supported architectures). Strings are NUL-padded, not necessarily terminated
 * when they fill their field. Padding is explicit and zeroed.
 */
#ifndef PODTRACE_H
#define PODTRACE_H

#include <linux/types.h>

#define PT_RECORD_VERSION 2
#define PT_COMM_LEN 16
#define PT_FILENAME_LEN 256
#define PT_ARGV_MAX 4096
#define PT_CGROUP_PATH_LEN 512

/* Explicitly numbered; never renumber, only append. Mirrored by src/events/event-kind.ts. */
enum pt_event_kind {
	PT_EVENT_PROCESS_EXEC = 1,
	PT_EVENT_PROCESS_EXIT = 2,
	PT_EVENT_PROCESS_FORK = 3,
	PT_EVENT_TCP_CONNECT = 4,
	PT_EVENT_TCP_ACCEPT = 5,
	PT_EVENT_TCP_CLOSE = 6,
	PT_EVENT_TCP_RETRANSMIT = 7,
	PT_EVENT_OOM_KILL = 8,
	PT_EVENT_CGROUP_MKDIR = 9,  /* attribution plumbing: consumed by user space, not exported */
	PT_EVENT_CGROUP_RMDIR = 10,
	/* 9..15: attribution work; 16..31: the breadth groups (signal, dns, file, sched). */
	PT_EVENT_PROCESS_SIGNAL = 16,
	PT_EVENT_DNS_QUERY = 17,
	PT_EVENT_FILE_READ = 18,
	PT_EVENT_FILE_WRITE = 19,
	PT_EVENT_FILE_FSYNC = 20,
	PT_EVENT_FILE_OPEN = 21,
	PT_EVENT_SCHED_RUNQUEUE = 22,
	PT_EVENT_KIND_MAX = 22,
};

/* Slots of the per-kind counter tables (losses, pt_drops): every kind number that can ever exist. */
#define PT_KIND_SLOTS 32

/* pt_header.flags */
#define PT_FLAG_ARGV_TRUNCATED (1u << 0) /* process.exec: argv longer than argv_bytes */
#define PT_FLAG_OWNER_UNKNOWN (1u << 1)  /* tcp.*: socket opened before podtrace started */
#define PT_FLAG_IPV6 (1u << 2)           /* tcp.*: addresses are IPv6 */
#define PT_FLAG_SIGNALED (1u << 3)       /* process.exit: killed by a signal */
#define PT_FLAG_FILENAME_TRUNCATED (1u << 4) /* process.exec filename, cgroup.* path */
#define PT_FLAG_PREEXISTING (1u << 5) /* tcp.*: connection older than podtrace: no duration */
/* Bits 8..15: the breadth groups. */
#define PT_FLAG_DNS_TIMEOUT (1u << 8)        /* dns.query: no answer within the timeout */
#define PT_FLAG_PAYLOAD_TRUNCATED (1u << 9)  /* dns.query: message longer than PT_DNS_PAYLOAD_MAX */
#define PT_FLAG_PATH_TRUNCATED (1u << 10)    /* file.*: deeper than PT_PATH_DEPTH or longer than path */
#define PT_FLAG_SIGNAL_GROUP (1u << 11)      /* process.signal: sent to the whole process */

struct pt_header {
	__u16 kind;          /* enum pt_event_kind */
	__u16 size;          /* whole record, bytes, multiple of 8 */
	__u16 flags;         /* PT_FLAG_* */
	__u16 cpu;           /* CPU that produced the record */
	__u32 pid;           /* process id (kernel tgid); 0 when unknown */
	__u32 tid;           /* thread id (kernel pid) */
	__u64 ts_ns;         /* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) */
	__u64 cgroup_id;     /* id of the cgroup in the attribution hierarchy (cgroup2, or the configured
	                      * v1 controller's), i.e. the inode of its directory; tcp.*: the socket's */
	__u64 proc_start_ns; /* CLOCK_BOOTTIME start of the process (thread-group leader) */
	char comm[PT_COMM_LEN]; /* the process's name: the thread-group leader's comm */
}; /* 56 bytes */

/* process.exec: fixed part, then argv_len bytes of NUL-separated argv, padded to 8. */
struct pt_exec {
	struct pt_header h;
	__u32 ppid;
	__u32 uid;
	__u64 parent_start_ns;
	__u16 filename_len; /* bytes used in filename, without NUL */
	__u16 argv_len;     /* bytes of argv that follow this struct */
	__u32 _reserved;    /* zero; user space counts the NUL-terminated strings in argv */
	char filename[PT_FILENAME_LEN];
	/* char argv[argv_len]; */
}; /* 56 + 24 + 256 = 336 bytes */

struct pt_exit {
	struct pt_header h;
	__u32 exit_code; /* task->exit_code: status << 8 | signal */
	__u32 _pad;
	__u64 lifetime_ns;
}; /* 72 bytes */

struct pt_fork {
	struct pt_header h;
	__u32 child_pid;
	__u32 _pad;
	__u64 child_start_ns;
}; /* 72 bytes */

/* tcp.connect, tcp.accept, tcp.close, tcp.retransmit share one layout. */
struct pt_tcp {
	struct pt_header h;
	__u8 saddr[16]; /* local; IPv4 in the first 4 bytes */
	__u8 daddr[16]; /* remote */
	__u16 sport;    /* local port, host order */
	__u16 dport;    /* remote port, host order */
	__u16 family;   /* AF_INET (2) or AF_INET6 (10) */
	__u8 old_state; /* TCP state left (close, retransmit: current state) */
	__u8 new_state;
	__u32 netns;       /* network namespace inode */
	__s32 err;         /* connect: errno (positive) on failure, else 0 */
	__u64 duration_ns; /* connect/accept: handshake; close: ESTABLISHED → CLOSE */
	__u64 bytes_sent;  /* close: tcp_sock.bytes_acked */
	__u64 bytes_received; /* close: tcp_sock.bytes_received */
	char thread_comm[PT_COMM_LEN]; /* comm of the thread (h.tid) that owns the socket */
}; /* 56 + 32 + 8 + 8 + 8*3 + 16 = 144 bytes */

/* oom.kill: the header describes the victim (pid, cgroup, comm); trigger_pid allocated. */
struct pt_oom {
	struct pt_header h;
	__u32 victim_pid;
	__u32 trigger_pid; /* tgid of the task whose allocation invoked the OOM killer */
	__u64 victim_cgroup_id;
	__u64 total_vm_pages;
	__u64 rss_pages;
	char victim_comm[PT_COMM_LEN];
}; /* 56 + 8 + 24 + 16 = 104 bytes */

/* cgroup.mkdir / cgroup.rmdir (cgroup:cgroup_mkdir / cgroup_rmdir, attribution hierarchy only). */
struct pt_cgroup {
	struct pt_header h;
	__u64 id;           /* cgroup id (the directory's inode) */
	__u32 hierarchy_id; /* 0 = cgroup2 */
	__u16 level;        /* depth below the root */
	__u16 path_len;     /* bytes used in path, without NUL */
	char path[PT_CGROUP_PATH_LEN]; /* relative to the hierarchy's root, never to a cgroup namespace */
}; /* 56 + 16 + 512 = 584 bytes */
/* process.signal: the header is the sender (the task that generated the signal). */
struct pt_signal {
	struct pt_header h;
	__u32 target_pid; /* tgid of the target */
	__u32 target_tid;
	__u64 target_cgroup_id;
	__u64 target_start_ns;
	__s32 sig;
	__s32 code;   /* si_code: 0 SI_USER (kill), -6 SI_TKILL, -1 SI_QUEUE, 0x80 SI_KERNEL, > 0 fault/child */
	__s32 result; /* 0 delivered, 1 ignored, 2 already pending, 3 overflow, 4 lost info */
	__u32 _pad;
	char target_comm[PT_COMM_LEN];
}; /* 56 + 8 + 16 + 16 + 16 = 112 bytes */

/* dns.query: fixed part, then payload_len bytes of the DNS message (the answer, or the query when
 * it timed out), padded to 8. The header is the querying process (egress runs in its context). */
#define PT_DNS_PAYLOAD_MAX 512
struct pt_dns {
	struct pt_header h;
	__u64 query_ns;   /* boot time the query left */
	__u64 latency_ns; /* query → answer; on timeout, how long podtrace waited */
	__u8 saddr[16];   /* the client (local) address; IPv4 in the first 4 bytes */
	__u8 daddr[16];   /* the server */
	__u16 sport;
	__u16 dport;
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 payload_len; /* bytes of DNS message after this struct */
	__u16 message_len; /* length of the whole DNS message */
	__u8 transport;    /* IPPROTO_UDP (17) or IPPROTO_TCP (6) */
	__u8 _pad[5];
}; /* 56 + 16 + 32 + 16 = 120 bytes */

/* file.read, file.write, file.fsync, file.open (failures) share one layout. */
#define PT_PATH_MAX 256
#define PT_PATH_DEPTH 16
struct pt_file {
	struct pt_header h;
	__u64 duration_ns;
	__s64 bytes;  /* read/write: bytes transferred; else 0 */
	__s32 err;    /* errno (positive) on failure, else 0 */
	__s32 fd;     /* -1 for file.open */
	__u32 op;     /* the syscall: read 0 read 1 pread64 2 readv 3 preadv (write alike); fsync: 0 fsync,
	               * 1 fdatasync, 2 sync_file_range; open: 0 openat 1 open 2 openat2 3 creat */
	__u16 path_len; /* bytes used in path, without NUL */
	__u16 _pad;
	char path[PT_PATH_MAX];
}; /* 56 + 32 + 256 = 344 bytes */

/* sched.runqueue: built by the addon from the kernel's per-cgroup histogram, not by a program.
 * The header carries the cgroup id; pid, tid and comm are zero. */
#define PT_SCHED_SLOTS 32
struct pt_sched {
	struct pt_header h;
	__u64 interval_ns; /* length of the interval the histogram covers */
	__u64 count;       /* wakeup → run latencies measured */
	__u64 total_ns;
	__u64 max_ns;
	__u64 slots[PT_SCHED_SLOTS]; /* slot i: latencies in [2^i, 2^(i+1)) ns */
}; /* 56 + 32 + 256 = 344 bytes */

/* Value of the in-kernel histogram map (per cgroup). */
struct pt_rq_hist {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 slots[PT_SCHED_SLOTS];
};

/* In-kernel scoping (map pt_scope): key 0 holds the mode, every other key is a cgroup id. */
#define PT_SCOPE_OFF 0
#define PT_SCOPE_DENY 1  /* listed cgroups produce no record */
#define PT_SCOPE_ALLOW 2 /* only listed cgroups produce records */

/* Reasons of the per-kind drop counters (map pt_drops, key = reason * PT_KIND_SLOTS + kind). */
#define PT_DROP_SCOPE 0      /* cgroup excluded by the scope */
#define PT_DROP_RATE 1       /* over the per-cgroup rate limit */
#define PT_DROP_TABLE_FULL 2 /* in-flight table full (dns) */
#define PT_DROP_UNPARSED 3   /* a message the kernel could not follow (dns over TCP split early) */
#define PT_DROP_REASONS 4

/* Read-only settings, set before load (const volatile in the programs). */
struct pt_settings {
	__u32 argv_bytes;
	__u32 wakeup_bytes; /* force a wakeup when this much data is waiting */
};

#endif /* PODTRACE_H */
