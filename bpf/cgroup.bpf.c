/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Probe group `cgroup` (internal, loaded with any other group): cgroup.mkdir / cgroup.rmdir from
 * cgroup:cgroup_mkdir and cgroup:cgroup_rmdir, for the attribution hierarchy only (cgroup2, or the
 * configured v1 controller's hierarchy). They feed user space's cgroup id → path cache, so a new
 * container's events are attributed without reading /proc/<pid>/cgroup (which a private cgroup
 * namespace rewrites) or walking the tree. The path is the kernel's, relative to the hierarchy's
 * root — never to the reader's cgroup namespace.
 */
#include "common.bpf.h"

#define PT_CGROUP_MAX_SIZE sizeof(struct pt_cgroup)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pt_cgroup);
} cgroup_scratch SEC(".maps");

static __always_inline int emit_cgroup(struct trace_event_raw_cgroup *ctx, __u16 kind)
{
	__u32 zero = 0, size;
	struct pt_cgroup *e;
	long n;

	if ((__u32)BPF_CORE_READ(ctx, root) != pt_cgroup_hierarchy)
		return 0; /* another (v1) hierarchy: its ids are a different number space */
	e = bpf_map_lookup_elem(&cgroup_scratch, &zero);
	if (!e)
		return 0;
	pt_fill_header(&e->h, kind, 0);
	e->id = BPF_CORE_READ(ctx, id);
	e->hierarchy_id = pt_cgroup_hierarchy;
	e->level = (__u16)BPF_CORE_READ(ctx, level);
	__builtin_memset(e->path, 0, sizeof(e->path)); /* rare event: a deterministic tail is worth it */
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path),
				      (void *)ctx + (BPF_CORE_READ(ctx, __data_loc_path) & 0xFFFF));
	e->path_len = n > 0 ? n - 1 : 0;
	if (n == sizeof(e->path))
		e->h.flags |= PT_FLAG_FILENAME_TRUNCATED;
	/* Send only the used part of the path (rounded up to 8, zero-padded). */
	size = (__builtin_offsetof(struct pt_cgroup, path) + e->path_len + 1 + 7) & ~7u;
	if (size > PT_CGROUP_MAX_SIZE)
		size = PT_CGROUP_MAX_SIZE;
	e->h.size = size;
	if (bpf_ringbuf_output(&events, e, size, pt_flags_for_submit()) != 0)
		pt_count_loss(kind);
	return 0;
}

SEC("tracepoint/cgroup/cgroup_mkdir")
int handle_cgroup_mkdir(struct trace_event_raw_cgroup *ctx)
{
	return emit_cgroup(ctx, PT_EVENT_CGROUP_MKDIR);
}

SEC("tracepoint/cgroup/cgroup_rmdir")
int handle_cgroup_rmdir(struct trace_event_raw_cgroup *ctx)
{
	return emit_cgroup(ctx, PT_EVENT_CGROUP_RMDIR);
}
