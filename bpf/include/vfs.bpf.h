/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The VFS types the `file` group reads (fd table → file → dentry/mount chain), hand-written for
 * CO-RE like vmlinux_min.h: only the fields used; libbpf relocates every access against the
 * running kernel's BTF. Kept apart from vmlinux_min.h so the other groups do not carry them.
 */
#ifndef PODTRACE_VFS_BPF_H
#define PODTRACE_VFS_BPF_H

#include "vmlinux_min.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* hash and len sit in an anonymous struct inside a union; CO-RE matches them through it. */
struct qstr {
	u32 hash;
	u32 len;
	const unsigned char *name;
};

struct super_block {
	unsigned long s_magic;
};

struct inode {
	unsigned short i_mode;
	struct super_block *i_sb;
};

/* Since Linux 6.14 d_name is one arm of an anonymous union (with __d_name); matched through it. */
struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
};

struct vfsmount {
	struct dentry *mnt_root;
};

/* The kernel's private wrapper of a vfsmount (fs/mount.h): the mount tree lives here. */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct fs_struct {
	struct path root;
	struct path pwd;
};

/* The task_struct fields only this group reads (a CO-RE flavour of task_struct). */
struct task_struct___vfs {
	struct files_struct *files;
	struct fs_struct *fs;
};

#pragma clang attribute pop

#define PT_S_IFMT 00170000
#define PT_S_IFREG 0100000
#define PT_S_IFBLK 0060000

#endif
