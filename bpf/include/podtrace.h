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
	PT_EVENT_KIND_MAX = 10,
};

/* pt_header.flags */
#define PT_FLAG_ARGV_TRUNCATED (1u << 0) /* process.exec: argv longer than argv_bytes */
#define PT_FLAG_OWNER_UNKNOWN (1u << 1)  /* tcp.*: socket opened before podtrace started */
#define PT_FLAG_IPV6 (1u << 2)           /* tcp.*: addresses are IPv6 */
#define PT_FLAG_SIGNALED (1u << 3)       /* process.exit: killed by a signal */
#define PT_FLAG_FILENAME_TRUNCATED (1u << 4) /* process.exec filename, cgroup.* path */
#define PT_FLAG_PREEXISTING (1u << 5) /* tcp.*: connection older than podtrace: no duration */

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

/* Read-only settings, set before load (const volatile in the programs). */
struct pt_settings {
	__u32 argv_bytes;
	__u32 wakeup_bytes; /* force a wakeup when this much data is waiting */
};

#endif /* PODTRACE_H */
