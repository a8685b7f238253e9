import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupChange } from '../events/event';
import { classifyCgroupPath } from '../enrich/cgroup/cgroup-layout';
import type { KernelScope } from '../sources/kernel-scope';

/** Directories visited at most when looking for the pod's cgroup. */
const MAX_CGROUP_DIRS = 200000;

function podUidOf(path: string): string | null {
  const c = classifyCgroupPath(path);
  return c.kind === 'pod' || c.kind === 'container' || c.kind === 'monitor' ? c.podUid : null;
}

/** The pod-level cgroup directory of a pod (relative to the cgroup2 mount), null when not there. */
export function findPodCgroup(cgroupBase: string, podUid: string): string | null {
  const queue: string[] = [''];
  let visited = 0;
  // Breadth first: the pod directory is found before its containers.
  while (queue.length > 0 && visited < MAX_CGROUP_DIRS) {
    const rel = queue.shift() as string;
    visited++;
    if (rel !== '' && podUidOf(rel) === podUid) return rel;
    try {
      for (const e of readdirSync(join(cgroupBase, rel), { withFileTypes: true }))
        if (e.isDirectory()) queue.push(`${rel}/${e.name}`);
    } catch {
      // removed meanwhile
    }
  }
  return null;
}

/** cgroup ids (inode numbers of the cgroup2 directories) of `dir` and everything below it. */
export function cgroupIdsUnder(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string): void => {
    try {
      out.push(Number(statSync(d, { bigint: true }).ino));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return out;
}

/**
 * Keeps the in-kernel scope (`pt_scope`, mode allow) on one pod: its cgroup and those below it at
 * start, then every cgroup the kernel reports created under the pod (a container that starts or
 * restarts later: its cgroup:cgroup_mkdir record reaches user space in the same drain as its first
 * events), and unlists removed ones. Other processes' events are then never produced.
 */
export class PodKernelScope {
  private constructor(
    private readonly scope: KernelScope,
    private readonly podUid: string,
    readonly podCgroup: string,
  ) {}

  /** Lists the pod's cgroups and switches the scope to allow; null when its cgroup is not found. */
  static start(scope: KernelScope, cgroupBase: string, podUid: string): PodKernelScope | null {
    const rel = findPodCgroup(cgroupBase, podUid);
    if (rel === null) return null;
    const ids = cgroupIdsUnder(join(cgroupBase, rel));
    if (ids.length === 0) return null;
    scope.add(ids);
    scope.setMode('allow');
    return new PodKernelScope(scope, podUid, rel);
  }

  get listed(): number {
    return this.scope.listed().length;
  }

  /** Follows the batch's cgroup changes (mkdirs before its events, rmdirs after: both idempotent here). */
  onChanges(changes: readonly CgroupChange[]): void {
    for (const c of changes) {
      if (c.op === 'mkdir' && podUidOf(c.path) === this.podUid) this.scope.add([c.id]);
      else if (c.op === 'rmdir') this.scope.remove([c.id]);
    }
  }
}
