import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CriClient } from '../enrich/cri/cri-client';
import { classifyCgroupPath } from '../enrich/cgroup/cgroup-layout';

/** Where the container's process came from: the runtime's verbose status, or its cgroup. */
export interface ContainerProcess {
  pid: number;
  source: 'cri' | 'cgroup';
}

/** Directories visited at most when searching the cgroup tree for a container's cgroup. */
const MAX_CGROUP_DIRS = 200000;

/**
 * The pid of the container's init from CRI `ContainerStatus` with `verbose: true`: containerd and
 * CRI-O both put a JSON document under `info["info"]` whose `pid` is the container's first process
 * (host pid namespace). null when the runtime has none (exited, or an older runtime).
 */
export async function criContainerPid(client: CriClient, containerId: string): Promise<number | null> {
  try {
    const res = await client.call<{ info: Record<string, string> }>('ContainerStatus', {
      containerId,
      verbose: true,
    });
    const raw = res.info.info;
    if (raw === undefined) return null;
    const pid = (JSON.parse(raw) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Finds the cgroup directory of a container by walking the cgroup2 tree (bounded). */
export function findContainerCgroup(cgroupBase: string, containerId: string): string | null {
  const stack: string[] = [''];
  let visited = 0;
  while (stack.length > 0 && visited < MAX_CGROUP_DIRS) {
    const rel = stack.pop() as string;
    visited++;
    if (rel !== '') {
      const c = classifyCgroupPath(rel);
      if (c.kind === 'container' && c.containerId === containerId) return join(cgroupBase, rel);
    }
    let entries;
    try {
      entries = readdirSync(join(cgroupBase, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) stack.push(`${rel}/${e.name}`);
  }
  return null;
}

function parentPid(procBase: string, pid: number): number | null {
  try {
    const stat = readFileSync(join(procBase, String(pid), 'stat'), 'utf8');
    // comm may hold spaces and parentheses: fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return null;
  }
}

/**
 * The container's init from its cgroup: the process in `cgroup.procs` (of the container cgroup or
 * a cgroup below it) whose parent is outside the container. null when the cgroup is empty.
 */
export function cgroupContainerPid(cgroupDir: string, procBase: string): number | null {
  const pids: number[] = [];
  const walk = (dir: string): void => {
    try {
      for (const l of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (l.trim() !== '') pids.push(Number(l));
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    } catch {
      // removed while reading
    }
  };
  walk(cgroupDir);
  const inside = new Set(pids);
  const root = pids.find((p) => {
    const pp = parentPid(procBase, p);
    return pp !== null && !inside.has(pp);
  });
  return root ?? pids[0] ?? null;
}

/**
 * The container's process: from the runtime (CRI verbose status) first, falling back to the
 * container's cgroup (`cgroup.procs`) when the runtime is unreachable or gives no pid. The pid is
 * checked to exist under `procBase`.
 */
export async function containerProcess(
  client: CriClient | null,
  containerId: string,
  paths: { cgroupBase: string | null; procBase: string },
): Promise<ContainerProcess | null> {
  if (client !== null) {
    const pid = await criContainerPid(client, containerId);
    if (pid !== null && existsSync(join(paths.procBase, String(pid)))) return { pid, source: 'cri' };
  }
  if (paths.cgroupBase === null) return null;
  const dir = findContainerCgroup(paths.cgroupBase, containerId);
  if (dir === null) return null;
  const pid = cgroupContainerPid(dir, paths.procBase);
  return pid === null ? null : { pid, source: 'cgroup' };
}
