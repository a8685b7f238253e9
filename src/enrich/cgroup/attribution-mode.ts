import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupMode, CgroupV1Controller } from '../enrich-config';
import { detectCgroup2Mount } from './cgroup-mount';

/**
 * The cgroup hierarchy podtrace attributes events through, decided once at start. The BPF programs
 * stamp each event with the task's cgroup id *in that hierarchy* (cgroup2's, or a v1 controller's
 * via css_set.subsys[ssid]), the cgroup probe group reports mkdir/rmdir of that hierarchy only, and
 * the enricher resolves ids to paths under `base`.
 */
export interface AttributionMode {
  mode: 'v2' | 'v1' | 'none';
  /** Kernel hierarchy id: 0 is cgroup2. */
  hierarchyId: number;
  /** v1: the controller's subsystem id (its line in /proc/cgroups); 0 in v2. */
  v1Ssid: number;
  /** v1: the controller; null in v2. */
  controller: CgroupV1Controller | null;
  /** Directory whose inodes the cgroup ids are; null when there is none. */
  base: string | null;
  /** cgroup v1 controllers are mounted too and cgroup2 lives at `<root>/unified`. */
  hybrid: boolean;
  /** Why this mode, for `podtrace check` and the start-up log. */
  reason: string;
}

export interface AttributionModeConfig {
  cgroupMode: CgroupMode;
  cgroupV1Controller: CgroupV1Controller;
  cgroupBase: string;
  procBase: string;
  kubelet: { cgroupRoot: string };
}

/** One v1 controller as the kernel lists it in /proc/cgroups. */
interface V1Controller {
  name: string;
  ssid: number;
  hierarchyId: number;
}

/** Parses /proc/cgroups: one line per compiled-in controller, in subsystem-id order. */
export function parseProcCgroups(text: string): V1Controller[] {
  const out: V1Controller[] = [];
  let ssid = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name, hierarchy] = line.split(/\s+/);
    if (name !== undefined && hierarchy !== undefined)
      out.push({ name, ssid, hierarchyId: Number(hierarchy) });
    ssid++;
  }
  return out;
}

/** Mount point of the v1 hierarchy carrying `controller`, from mountinfo (superoptions list it). */
function v1MountOf(controller: string, procBase: string, sysRoot: string): string | null {
  const direct = join(sysRoot, controller);
  if (existsSync(join(direct, 'cgroup.procs')) && !existsSync(join(direct, 'cgroup.controllers')))
    return direct;
  try {
    for (const line of readFileSync(join(procBase, 'self', 'mountinfo'), 'utf8').split('\n')) {
      const dash = line.indexOf(' - ');
      if (dash < 0) continue;
      const [fstype, , superOptions] = line.slice(dash + 3).split(' ');
      if (fstype !== 'cgroup' || superOptions === undefined) continue;
      if (superOptions.split(',').includes(controller)) return line.slice(0, dash).split(' ')[4] ?? null;
    }
  } catch {
    // no mountinfo: nothing else to try
  }
  return null;
}

/** Whether the kubelet's pods live under `base` (kubepods, kubepods.slice, or below --cgroup-root). */
function holdsPods(base: string, cgroupRoot: string): boolean {
  const roots = cgroupRoot === '' || cgroupRoot === '/' ? [''] : ['', cgroupRoot];
  for (const r of roots) {
    const dir = join(base, r);
    if (existsSync(join(dir, 'kubepods')) || existsSync(join(dir, 'kubepods.slice'))) return true;
    const slice = r.replace(/^\/+|\.slice$/g, '');
    if (slice !== '' && existsSync(join(dir, `${slice}-kubepods.slice`))) return true;
  }
  return false;
}

function v1Mode(
  config: AttributionModeConfig,
  sysRoot: string,
  why: string,
): AttributionMode | { problem: string } {
  const controller = config.cgroupV1Controller;
  let controllers: V1Controller[];
  try {
    controllers = parseProcCgroups(readFileSync(join(config.procBase, 'cgroups'), 'utf8'));
  } catch {
    return { problem: `cannot read ${join(config.procBase, 'cgroups')}` };
  }
  const c = controllers.find((x) => x.name === controller);
  if (c === undefined) return { problem: `the kernel has no ${controller} controller` };
  if (c.hierarchyId === 0)
    return { problem: `the ${controller} controller is not mounted as cgroup v1 (it is on cgroup2)` };
  const base = config.cgroupBase !== '' ? config.cgroupBase : v1MountOf(controller, config.procBase, sysRoot);
  if (base === null) return { problem: `no mount of the ${controller} v1 hierarchy found` };
  return {
    mode: 'v1',
    hierarchyId: c.hierarchyId,
    v1Ssid: c.ssid,
    controller,
    base,
    hybrid: false,
    reason: `${why}: the ${controller} controller's v1 hierarchy ${c.hierarchyId} at ${base}`,
  };
}

/**
 * Decides the attribution mode. `auto`: cgroup2 when it exists and holds the pods (or nothing
 * does), else a v1 controller's hierarchy when that one holds them (Amazon Linux 2 on cgroup v1, a
 * hybrid node whose runtime uses the cgroupfs driver), else cgroup2 if present at all.
 */
export function detectAttributionMode(
  config: AttributionModeConfig,
  sysRoot = '/sys/fs/cgroup',
): AttributionMode {
  const none = (reason: string): AttributionMode => ({
    mode: 'none',
    hierarchyId: 0,
    v1Ssid: 0,
    controller: null,
    base: null,
    hybrid: false,
    reason,
  });
  if (config.cgroupMode === 'v1') {
    const v1 = v1Mode(config, sysRoot, 'enrich.cgroupMode is v1');
    return 'problem' in v1 ? none(`enrich.cgroupMode is v1 but ${v1.problem}`) : v1;
  }
  const v2 = detectCgroup2Mount(config.cgroupBase, config.procBase, sysRoot);
  const v2Mode = (reason: string): AttributionMode => ({
    mode: 'v2',
    hierarchyId: 0,
    v1Ssid: 0,
    controller: null,
    base: v2?.base ?? null,
    hybrid: v2?.hybrid ?? false,
    reason,
  });
  if (config.cgroupMode === 'v2') {
    if (v2 === null) return none('enrich.cgroupMode is v2 but no cgroup2 hierarchy is mounted');
    return v2Mode(`enrich.cgroupMode is v2: cgroup2 at ${v2.base}`);
  }
  const root = config.kubelet.cgroupRoot;
  if (v2 !== null && holdsPods(v2.base, root))
    return v2Mode(`cgroup2 at ${v2.base}${v2.hybrid ? ' (hybrid node)' : ''} holds the pods`);
  const v1 = config.cgroupBase === '' ? v1Mode(config, sysRoot, 'no pods under cgroup2') : null;
  if (v1 !== null && !('problem' in v1) && v1.base !== null && holdsPods(v1.base, root)) {
    return v2 === null
      ? {
          ...v1,
          reason: `no cgroup2 hierarchy; ${v1.reason.replace(/^no pods under cgroup2: /, '')} holds the pods`,
        }
      : { ...v1, reason: `${v1.reason} holds the pods, cgroup2 at ${v2.base} does not` };
  }
  if (v2 !== null) return v2Mode(`cgroup2 at ${v2.base}${v2.hybrid ? ' (hybrid node)' : ''}`);
  if (v1 !== null && !('problem' in v1)) return { ...v1, reason: `no cgroup2 hierarchy; ${v1.reason}` };
  return none(
    `no cgroup2 hierarchy and no ${config.cgroupV1Controller} v1 hierarchy found (set enrich.cgroupBase / PODTRACE_CGROUP_BASE)`,
  );
}
