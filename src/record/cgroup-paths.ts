import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A cgroup v2 id is the inode number of the cgroup's directory in the cgroup2 filesystem
 * (what bpf_get_current_cgroup_id returns). Resolving ids to paths therefore means walking the
 * cgroup2 tree and indexing directories by inode.
 */

/** The cgroup2 mount point: /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones. */
export function cgroup2Root(mountsText?: string): string | null {
  let text = mountsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mounts', 'utf8');
    } catch {
      return null;
    }
  }
  const dirs = text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup2')
    .map((f) => f[1] as string);
  if (dirs.includes('/sys/fs/cgroup')) return '/sys/fs/cgroup';
  return dirs[0] ?? null;
}

/**
 * Walks the cgroup2 tree under `root` and returns the paths (relative to root, starting with "/")
 * of the directories whose inode is in `wanted` (all directories when `wanted` is undefined).
 * Stops early once every wanted id is found. Directories that vanish during the walk are skipped.
 */
export function scanCgroupPaths(root: string, wanted?: ReadonlySet<number>): Map<number, string> {
  const found = new Map<number, string>();
  const stack: string[] = ['/'];
  while (stack.length > 0) {
    const rel = stack.pop() as string;
    const abs = rel === '/' ? root : join(root, rel);
    let ino: number;
    try {
      ino = statSync(abs).ino;
    } catch {
      continue;
    }
    if (wanted === undefined || wanted.has(ino)) {
      found.set(ino, rel);
      if (wanted !== undefined && found.size === wanted.size) break;
    }
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) stack.push(rel === '/' ? `/${e.name}` : `${rel}/${e.name}`);
  }
  return found;
}
