import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Cgroup2Mount {
  /** Directory of the cgroup2 hierarchy. */
  base: string;
  /** true when cgroup v1 controllers are mounted too and cgroup2 lives at `<root>/unified`. */
  hybrid: boolean;
  /** Where the answer came from: `config`, `/sys/fs/cgroup`, `/sys/fs/cgroup/unified`, `mountinfo`. */
  source: string;
}

/** `cgroup.controllers` exists only at the root (and in every directory) of a cgroup2 hierarchy. */
function isCgroup2(dir: string): boolean {
  return existsSync(join(dir, 'cgroup.controllers'));
}

/**
 * Finds the cgroup2 hierarchy: the configured base (`enrich.cgroupBase` / PODTRACE_CGROUP_BASE)
 * when set, else `/sys/fs/cgroup` on pure v2 nodes, `/sys/fs/cgroup/unified` on hybrid nodes, else
 * the first cgroup2 mount in `<procBase>/self/mountinfo`.
 */
export function detectCgroup2Mount(
  configured: string,
  procBase = '/proc',
  sysRoot = '/sys/fs/cgroup',
): Cgroup2Mount | null {
  if (configured !== '')
    return {
      base: configured,
      hybrid: configured.replace(/\/+$/, '').endsWith('/unified'),
      source: 'config',
    };
  if (isCgroup2(sysRoot)) return { base: sysRoot, hybrid: false, source: sysRoot };
  const unified = join(sysRoot, 'unified');
  if (isCgroup2(unified)) return { base: unified, hybrid: true, source: unified };
  try {
    for (const line of readFileSync(join(procBase, 'self', 'mountinfo'), 'utf8').split('\n')) {
      // mountinfo: id parent major:minor root mountpoint options ... - fstype source superoptions
      const dash = line.indexOf(' - ');
      if (dash < 0) continue;
      const fstype = line.slice(dash + 3).split(' ')[0];
      if (fstype !== 'cgroup2') continue;
      const mountPoint = line.slice(0, dash).split(' ')[4];
      if (mountPoint !== undefined) return { base: mountPoint, hybrid: true, source: 'mountinfo' };
    }
  } catch {
    // no mountinfo: nothing else to try
  }
  return null;
}

/**
 * The cgroup2 directory the cgroup programs (the dns group's cgroup_skb) attach to. In cgroup v1
 * mode `enrich.cgroupBase` names the v1 controller's hierarchy, which cannot hold them: cgroup2 is
 * then `unified` beside it (hybrid nodes), or found as when no base is configured. '' when there is
 * none.
 */
export function cgroupProgramRoot(
  config: { cgroupBase: string; procBase: string },
  v1: boolean,
  sysRoot = '/sys/fs/cgroup',
): string {
  if (!v1) return detectCgroup2Mount(config.cgroupBase, config.procBase, sysRoot)?.base ?? '';
  if (config.cgroupBase !== '') {
    const beside = join(config.cgroupBase.replace(/\/+$/, ''), '..', 'unified');
    if (isCgroup2(beside)) return beside;
  }
  return detectCgroup2Mount('', config.procBase, sysRoot)?.base ?? '';
}
