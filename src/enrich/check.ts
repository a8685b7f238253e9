import { classifyCgroupPath } from './cgroup/cgroup-layout';
import { detectCgroup2Mount } from './cgroup/cgroup-mount';
import { cgroup2PathOf } from './cgroup/cgroup-path-resolver';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrichConfig } from './enrich-config';
import { detectKubelet } from './kubelet/kubelet-detect';

export { probeCri } from './cri/cri-probe';
export type { CriProbeResult } from './cri/cri-probe';

export interface CgroupLayoutReport {
  /** cgroup2 directory used to resolve ids, null when none was found. */
  mount: string | null;
  hybrid: boolean;
  mountSource: string | null;
  /** The kubelet's cgroup driver and root, with where each came from (`override`, `cmdline`, `config <file>`, `default`). */
  kubelet: {
    pid: number | null;
    cgroupDriver: string | null;
    cgroupDriverSource: string;
    cgroupRoot: string | null;
    cgroupRootSource: string;
    containerRuntimeEndpoint: string | null;
    configFile: string | null;
  };
  /** podtrace's own cgroup2 path and how it classifies (a quick self-test of the resolver). */
  self: { path: string | null; kind: string };
  problems: string[];
}

/**
 * For `podtrace check`: where the cgroup2 hierarchy is, whether the node is hybrid, and the
 * kubelet's cgroup driver and root (config overrides win over what the kubelet's command line and
 * `--config` file say).
 */
export function detectCgroupLayout(
  config: Pick<EnrichConfig, 'cgroupBase' | 'procBase' | 'kubelet'>,
): CgroupLayoutReport {
  const problems: string[] = [];
  const mount = detectCgroup2Mount(config.cgroupBase, config.procBase);
  if (mount === null)
    problems.push('no cgroup2 hierarchy found (set enrich.cgroupBase / PODTRACE_CGROUP_BASE)');
  const k = config.kubelet.detect ? detectKubelet(config.procBase) : null;
  if (k !== null) problems.push(...k.problems);
  const driverOverride = config.kubelet.cgroupDriver !== '';
  const rootOverride = config.kubelet.cgroupRoot !== '';
  let selfPath: string | null = null;
  try {
    selfPath = cgroup2PathOf(readFileSync(join(config.procBase, 'self', 'cgroup'), 'utf8'));
  } catch {
    problems.push(`cannot read ${join(config.procBase, 'self', 'cgroup')}`);
  }
  return {
    mount: mount?.base ?? null,
    hybrid: mount?.hybrid ?? false,
    mountSource: mount?.source ?? null,
    kubelet: {
      pid: k?.pid ?? null,
      cgroupDriver: driverOverride ? config.kubelet.cgroupDriver : (k?.cgroupDriver ?? null),
      cgroupDriverSource: driverOverride ? 'override' : (k?.sources.cgroupDriver ?? 'default'),
      cgroupRoot: rootOverride ? config.kubelet.cgroupRoot : (k?.cgroupRoot ?? null),
      cgroupRootSource: rootOverride ? 'override' : (k?.sources.cgroupRoot ?? 'default'),
      containerRuntimeEndpoint: k?.containerRuntimeEndpoint ?? null,
      configFile: k?.configFile ?? null,
    },
    self: { path: selfPath, kind: selfPath === null ? 'unknown' : classifyCgroupPath(selfPath).kind },
    problems,
  };
}
