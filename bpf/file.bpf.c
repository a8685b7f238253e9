/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `file`: slow file.read / file.write / file.fsync and failed file.open, from the
 * syscall tracepoints (syscalls:sys_enter_* / sys_exit_*).
 *
 * Enter remembers the start time (and fd or filename) per thread in `pt_file_inflight`, keyed by
 * pid_tgid; exit measures the duration and, for an operation that took at least pt_file_min_ns (an
 * open: that failed), resolves the fd to its file. Only then is any ring-buffer space used: fast
 * I/O costs a map update and a lookup/delete, never a record. What is not a file — sockets, pipes,
 * character devices, anonymous inodes — and files on the excluded (pseudo) filesystems produce
 * nothing. The path is walked from the dentry up to the process's root, crossing mounts, at most
 * PT_PATH_DEPTH names deep (PT_FLAG_PATH_TRUNCATED beyond).
 */
#include "common.bpf.h"
#include "vfs.bpf.h"

#define AT_FDCWD -100
#define PT_FILE_SKIP_SLOTS 24
/* Mount boundaries crossed at most (each costs a loop iteration but adds no name). */
#define PT_MOUNT_DEPTH 8
/* Path scratch: built backwards ending at PT_SCRATCH_END, an open's relative name appended after. */
#define PT_SCRATCH_END 512
#define PT_SCRATCH_SIZE 1024
#define PT_NAME_MAX 255

/* Operations shorter than this produce no record (open failures always do). Set by the loader. */
const volatile __u64 pt_file_min_ns = 1000000;
/* Superblock magics never reported (proc, sysfs, cgroup, …); 0 ends the list. Set by the loader. */
const volatile __u32 pt_file_skip_magic[PT_FILE_SKIP_SLOTS] = {};
/* podtrace's own process: its I/O is never reported (no feedback through a sink writing a file). */
const volatile __u32 pt_file_self_tgid = 0;

/* Syscall tracepoint records (the stable layout of syscalls:sys_enter_* / sys_exit_*). */
struct pt_sys_enter {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct pt_sys_exit {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

struct pt_file_start {
	__u64 start_ns;
	__u64 name; /* open: user pointer to the filename */
	__s32 fd;   /* read/write/fsync: the fd; open: the directory fd */
	__u16 kind;
	__u16 op;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* threads inside a traced syscall at once; resized by the loader */
	__type(key, __u64);         /* pid_tgid */
	__type(value, struct pt_file_start);
} pt_file_inflight SEC(".maps");

struct pt_path_scratch {
	char buf[PT_SCRATCH_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pt_path_scratch);
} pt_file_scratch SEC(".maps");

static __always_inline int file_enter(__u16 kind, __u16 op, __s32 fd, __u64 name)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pt_file_start s = {
		.start_ns = bpf_ktime_get_ns(), .name = name, .fd = fd, .kind = kind, .op = op
	};

	if ((__u32)(id >> 32) == pt_file_self_tgid)
		return 0;
	if (bpf_map_update_elem(&pt_file_inflight, &id, &s, BPF_ANY) != 0)
		pt_count_drop(PT_DROP_TABLE_FULL, kind);
	return 0;
}

/* Takes this thread's start entry (removing it); false when there is none for `kind`. */
static __always_inline bool file_take(__u16 kind, struct pt_file_start *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pt_file_start *s = bpf_map_lookup_elem(&pt_file_inflight, &id);

	if (!s)
		return false;
	*out = *s;
	bpf_map_delete_elem(&pt_file_inflight, &id);
	return out->kind == kind;
}

static __always_inline struct file *fd_file(struct task_struct___vfs *task, __s32 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;

	if (!fdt || fd < 0 || (__u32)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), fds + fd);
	return f;
}

/* A regular file or block device on a filesystem that is not excluded. */
static __always_inline bool reportable(struct file *f)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	unsigned short fmt = BPF_CORE_READ(inode, i_mode) & PT_S_IFMT;
	__u32 magic;

	if (fmt != PT_S_IFREG && fmt != PT_S_IFBLK)
		return false;
	magic = (__u32)BPF_CORE_READ(inode, i_sb, s_magic);
	for (int i = 0; i < PT_FILE_SKIP_SLOTS; i++) {
		if (pt_file_skip_magic[i] == 0)
			break;
		if (pt_file_skip_magic[i] == magic)
			return false;
	}
	return true;
}

static __always_inline struct vfsmount *mount_vfs(struct mount *m)
{
	return (struct vfsmount *)((void *)m + bpf_core_field_offset(struct mount, mnt));
}

static __always_inline struct mount *vfs_mount(struct vfsmount *v)
{
	return (struct mount *)((void *)v - bpf_core_field_offset(struct mount, mnt));
}

/* State of one path walk (bpf_loop callback context). */
struct pt_walk {
	struct dentry *dentry;
	struct vfsmount *vfs;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_vfs;
	__u32 pos;
	__u32 names;
	__u32 crossings;
	__u32 done; /* 1: reached the root; 2: a bound ran out (truncated) */
};

/* One step up: a name prepended, or a mount boundary crossed. Returns 1 to stop the loop. */
static long walk_step(__u32 i, struct pt_walk *w)
{
	struct pt_path_scratch *scratch;
	struct dentry *parent, *mnt_root;
	const unsigned char *name;
	/* Locals: a struct field inside BPF_CORE_READ would itself become a CO-RE relocation. */
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfs = w->vfs;
	struct mount *mnt = w->mnt;
	__u32 zero = 0, len, pos;

	if (dentry == w->root_dentry && vfs == w->root_vfs) {
		w->done = 1;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vfs, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		/* The top of the mount tree, or a dentry not connected to its mount's root. */
		if (dentry != mnt_root || up == mnt || !up) {
			w->done = 1;
			return 1;
		}
		if (++w->crossings > PT_MOUNT_DEPTH) {
			w->done = 2;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfs = mount_vfs(up);
		return 0;
	}
	len = BPF_CORE_READ(dentry, d_name.len);
	name = BPF_CORE_READ(dentry, d_name.name);
	if (len > PT_NAME_MAX)
		len = PT_NAME_MAX;
	pos = w->pos;
	scratch = bpf_map_lookup_elem(&pt_file_scratch, &zero);
	if (w->names == PT_PATH_DEPTH || len + 1 > pos || pos > PT_SCRATCH_END || !scratch) {
		w->done = 2;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(scratch->buf + (pos & (PT_SCRATCH_END - 1)), len & PT_NAME_MAX, name);
	pos -= 1;
	scratch->buf[pos & (PT_SCRATCH_END - 1)] = '/';
	w->pos = pos;
	w->names++;
	w->dentry = parent;
	return 0;
}

/*
 * Writes the path of (dentry, vfs) into the scratch buffer, backwards, ending at `end`
 * (≤ PT_SCRATCH_END): "/a/b/c". Stops at the process's root (chroot/pivot_root: the container's view of the path) or at
 * the top of its mount tree, crossing mount points on the way. Returns the start offset; sets
 * *truncated when the name or mount bound, or the scratch space, ran out before the root.
 */
static __always_inline __u32 build_path(struct task_struct___vfs *task, struct dentry *dentry,
					struct vfsmount *vfs, __u32 end, bool *truncated)
{
	struct pt_walk w = {
		.dentry = dentry,
		.vfs = vfs,
		.mnt = vfs_mount(vfs),
		.root_dentry = BPF_CORE_READ(task, fs, root.dentry),
		.root_vfs = BPF_CORE_READ(task, fs, root.mnt),
		.pos = end,
	};

	bpf_loop(PT_PATH_DEPTH + PT_MOUNT_DEPTH + 1, walk_step, &w, 0);
	if (w.done != 1)
		*truncated = true;
	return w.pos;
}

/* Copies buf[start, end) into the record's path: its last PT_PATH_MAX - 1 bytes when longer. */
static __always_inline void put_path(struct pt_file *e, const char *buf, __u32 start, __u32 end)
{
	__u32 len = end > start ? end - start : 0;

	if (len > PT_PATH_MAX - 1) {
		start = end - (PT_PATH_MAX - 1);
		len = PT_PATH_MAX - 1;
		e->h.flags |= PT_FLAG_PATH_TRUNCATED;
	}
	bpf_probe_read_kernel(e->path, len & (PT_PATH_MAX - 1), buf + (start & (PT_SCRATCH_SIZE - 1)));
	e->path_len = (__u16)len;
}

static __always_inline struct pt_file *file_reserve(__u16 kind, const struct pt_file_start *s, __u64 dur,
						    __s64 ret)
{
	struct pt_file *e = PT_RESERVE(struct pt_file, kind);

	if (!e)
		return NULL;
	pt_fill_header(&e->h, kind, sizeof(*e));
	e->duration_ns = dur;
	e->bytes = 0;
	e->err = ret < 0 ? (__s32)-ret : 0;
	e->fd = s->fd;
	e->op = s->op;
	e->path_len = 0;
	e->_pad = 0;
	__builtin_memset(e->path, 0, sizeof(e->path));
	return e;
}

/* read/write/fsync family: the record, when the operation was slow and on a reportable file. */
static __always_inline int fd_exit(__u16 kind, __s64 ret)
{
	struct task_struct___vfs *task;
	struct pt_file_start s;
	struct pt_path_scratch *scratch;
	struct pt_file *e;
	struct file *f;
	bool truncated = false;
	__u32 zero = 0, pos;
	__u64 dur;

	if (!file_take(kind, &s))
		return 0;
	dur = bpf_ktime_get_ns() - s.start_ns;
	if (dur < pt_file_min_ns)
		return 0;
	task = (struct task_struct___vfs *)bpf_get_current_task();
	f = fd_file(task, s.fd);
	if (!f || !reportable(f))
		return 0;
	if (!pt_admit(pt_current_cgroup_id(), kind))
		return 0;
	scratch = bpf_map_lookup_elem(&pt_file_scratch, &zero);
	if (!scratch)
		return 0;
	e = file_reserve(kind, &s, dur, ret);
	if (!e)
		return 0;
	if (kind != PT_EVENT_FILE_FSYNC && ret > 0)
		e->bytes = ret;
	pos = build_path(task, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			 PT_SCRATCH_END, &truncated);
	if (pos == PT_SCRATCH_END) {
		pos = PT_SCRATCH_END - 1; /* the root itself */
		scratch->buf[PT_SCRATCH_END - 1] = '/';
	}
	if (truncated)
		e->h.flags |= PT_FLAG_PATH_TRUNCATED;
	put_path(e, scratch->buf, pos, PT_SCRATCH_END);
	PT_SUBMIT_ADMITTED(e);
	return 0;
}

/* open family: a record for every failure, the name made absolute against the directory fd or cwd. */
static __always_inline int open_exit(__s64 ret)
{
	struct task_struct___vfs *task;
	struct pt_file_start s;
	struct pt_path_scratch *scratch;
	struct pt_file *e;
	bool truncated = false;
	__u32 zero = 0, pos = PT_SCRATCH_END;
	long n;

	if (!file_take(PT_EVENT_FILE_OPEN, &s) || ret >= 0)
		return 0;
	if (!pt_admit(pt_current_cgroup_id(), PT_EVENT_FILE_OPEN))
		return 0;
	scratch = bpf_map_lookup_elem(&pt_file_scratch, &zero);
	if (!scratch)
		return 0;
	e = file_reserve(PT_EVENT_FILE_OPEN, &s, bpf_ktime_get_ns() - s.start_ns, ret);
	if (!e)
		return 0;
	e->fd = -1;
	n = bpf_probe_read_user_str(scratch->buf + PT_SCRATCH_END, PT_SCRATCH_SIZE - PT_SCRATCH_END,
				    (const void *)s.name);
	if (n <= 1) {
		n = 1; /* unreadable or empty name: the record says only "failed" */
	} else if (scratch->buf[PT_SCRATCH_END] != '/') {
		struct dentry *dir_dentry = NULL;
		struct vfsmount *dir_vfs = NULL;

		task = (struct task_struct___vfs *)bpf_get_current_task();
		if (s.fd == AT_FDCWD) {
			dir_dentry = BPF_CORE_READ(task, fs, pwd.dentry);
			dir_vfs = BPF_CORE_READ(task, fs, pwd.mnt);
		} else {
			struct file *dir = fd_file(task, s.fd);
			if (dir) {
				dir_dentry = BPF_CORE_READ(dir, f_path.dentry);
				dir_vfs = BPF_CORE_READ(dir, f_path.mnt);
			}
		}
		if (dir_dentry && dir_vfs) {
			/* Relative to a known directory: "<dir>/<name>". Unknown: the name as given. */
			scratch->buf[PT_SCRATCH_END - 1] = '/';
			pos = build_path(task, dir_dentry, dir_vfs, PT_SCRATCH_END - 1, &truncated);
		}
	}
	if (truncated)
		e->h.flags |= PT_FLAG_PATH_TRUNCATED;
	if (n >= PT_SCRATCH_SIZE - PT_SCRATCH_END)
		e->h.flags |= PT_FLAG_PATH_TRUNCATED; /* the name itself filled the scratch */
	put_path(e, scratch->buf, pos, PT_SCRATCH_END + (__u32)(n - 1));
	PT_SUBMIT_ADMITTED(e);
	return 0;
}

#define PT_FD_SYSCALL(name, kind, op)                                                                \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                  \
	int handle_enter_##name(struct pt_sys_enter *ctx)                                            \
	{                                                                                            \
		return file_enter(kind, op, (__s32)ctx->args[0], 0);                                 \
	}                                                                                            \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                   \
	int handle_exit_##name(struct pt_sys_exit *ctx)                                              \
	{                                                                                            \
		return fd_exit(kind, ctx->ret);                                                      \
	}

#define PT_OPEN_SYSCALL(name, op, dirfd, name_arg)                                                   \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                  \
	int handle_enter_##name(struct pt_sys_enter *ctx)                                            \
	{                                                                                            \
		return file_enter(PT_EVENT_FILE_OPEN, op, dirfd, ctx->args[name_arg]);               \
	}                                                                                            \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                   \
	int handle_exit_##name(struct pt_sys_exit *ctx)                                              \
	{                                                                                            \
		return open_exit(ctx->ret);                                                          \
	}

/* op numbers: the index of the syscall in the decoder's table (src/events/decode-breadth.ts). */
PT_FD_SYSCALL(read, PT_EVENT_FILE_READ, 0)
PT_FD_SYSCALL(pread64, PT_EVENT_FILE_READ, 1)
PT_FD_SYSCALL(readv, PT_EVENT_FILE_READ, 2)
PT_FD_SYSCALL(preadv, PT_EVENT_FILE_READ, 3)
PT_FD_SYSCALL(write, PT_EVENT_FILE_WRITE, 0)
PT_FD_SYSCALL(pwrite64, PT_EVENT_FILE_WRITE, 1)
PT_FD_SYSCALL(writev, PT_EVENT_FILE_WRITE, 2)
PT_FD_SYSCALL(pwritev, PT_EVENT_FILE_WRITE, 3)
PT_FD_SYSCALL(fsync, PT_EVENT_FILE_FSYNC, 0)
PT_FD_SYSCALL(fdatasync, PT_EVENT_FILE_FSYNC, 1)
PT_FD_SYSCALL(sync_file_range, PT_EVENT_FILE_FSYNC, 2)
PT_OPEN_SYSCALL(openat, 0, (__s32)ctx->args[0], 1)
PT_OPEN_SYSCALL(openat2, 2, (__s32)ctx->args[0], 1)
#if defined(__TARGET_ARCH_x86)
/* open(2) and creat(2) exist as syscalls on x86 only (arm64 has openat alone). */
PT_OPEN_SYSCALL(open, 1, AT_FDCWD, 0)
PT_OPEN_SYSCALL(creat, 3, AT_FDCWD, 0)
#endif
