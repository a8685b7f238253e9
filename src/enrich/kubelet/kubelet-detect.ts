import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CgroupDriver } from '../enrich-config';

/** Process names under which a kubelet runs: kubelet, microk8s' kubelite, k3s' single binary. */
const KUBELET_COMMS = new Set(['kubelet', 'kubelite', 'k3s-server', 'k3s-agent', 'k3s']);

export interface KubeletSettings {
  /** Pid (in procBase) of the kubelet, null when none was found. */
  pid: number | null;
  cgroupDriver: CgroupDriver | null;
  cgroupRoot: string | null;
  containerRuntimeEndpoint: string | null;
  /** The `--config` file path as the kubelet sees it. */
  configFile: string | null;
  /** Where each value came from (`cmdline`, `config <file>`, `override`, `default`). */
  sources: { cgroupDriver: string; cgroupRoot: string; containerRuntimeEndpoint: string };
  /** Why something could not be read (the config file missing, ...). */
  problems: string[];
}

/** Flags in `--name=value` or `--name value` form; k3s passes kubelet flags as `--kubelet-arg=name=value`. */
export function parseKubeletFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) continue;
    const body = a.replace(/^--?/, '');
    let name: string;
    let value: string | undefined;
    const eq = body.indexOf('=');
    if (eq >= 0) {
      name = body.slice(0, eq);
      value = body.slice(eq + 1);
    } else {
      name = body;
      const nxt = argv[i + 1];
      if (nxt !== undefined && !nxt.startsWith('-')) {
        value = nxt;
        i++;
      }
    }
    if (value === undefined) continue;
    if (name === 'kubelet-arg') {
      const keq = value.indexOf('=');
      if (keq > 0) flags.set(value.slice(0, keq).replace(/^--?/, ''), value.slice(keq + 1));
      continue;
    }
    flags.set(name, value);
  }
  return flags;
}

/** The fields of a KubeletConfiguration file (kubelet.config.k8s.io/v1beta1) that matter here. */
export function parseKubeletConfigFile(text: string): {
  cgroupDriver?: string;
  cgroupRoot?: string;
  containerRuntimeEndpoint?: string;
} {
  const doc: unknown = parseYaml(text);
  if (doc === null || typeof doc !== 'object') return {};
  const d = doc as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    cgroupDriver: str(d.cgroupDriver),
    cgroupRoot: str(d.cgroupRoot),
    containerRuntimeEndpoint: str(d.containerRuntimeEndpoint),
  };
}

function asDriver(v: string | undefined): CgroupDriver | null {
  return v === 'systemd' || v === 'cgroupfs' ? v : null;
}

/** Finds the kubelet process under `procBase` by its comm (cheap: one small read per pid). */
export function findKubeletPid(procBase: string): number | null {
  let entries: string[];
  try {
    entries = readdirSync(procBase);
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const comm = readFileSync(join(procBase, e, 'comm'), 'utf8').trim();
      if (KUBELET_COMMS.has(comm)) return Number(e);
    } catch {
      // the process exited meanwhile
    }
  }
  return null;
}

/**
 * Reads the kubelet's cgroup driver, cgroup root and CRI endpoint from its command line and its
 * `--config` file (read through `<procBase>/<pid>/root` so it works from a container), as on EKS
 * (config file) and AKS (`--cgroup-root` flag). Command-line flags win over the file, as in kubelet.
 */
export function detectKubelet(
  procBase: string,
  pid: number | null = findKubeletPid(procBase),
): KubeletSettings {
  const out: KubeletSettings = {
    pid,
    cgroupDriver: null,
    cgroupRoot: null,
    containerRuntimeEndpoint: null,
    configFile: null,
    sources: { cgroupDriver: 'default', cgroupRoot: 'default', containerRuntimeEndpoint: 'default' },
    problems: [],
  };
  if (pid === null) {
    out.problems.push(`no kubelet process found under ${procBase}`);
    return out;
  }
  let argv: string[];
  try {
    argv = readFileSync(join(procBase, String(pid), 'cmdline'), 'utf8')
      .split('\0')
      .filter((s) => s.length > 0);
  } catch (err) {
    out.problems.push(`cannot read ${join(procBase, String(pid), 'cmdline')}: ${(err as Error).message}`);
    return out;
  }
  const flags = parseKubeletFlags(argv.slice(1));
  const configFile = flags.get('config') ?? null;
  out.configFile = configFile;
  let file: ReturnType<typeof parseKubeletConfigFile> = {};
  if (configFile !== null) {
    const candidates = [join(procBase, String(pid), 'root', configFile), configFile];
    let read = false;
    for (const c of candidates) {
      try {
        file = parseKubeletConfigFile(readFileSync(c, 'utf8'));
        read = true;
        break;
      } catch {
        // try the next candidate
      }
    }
    if (!read) out.problems.push(`cannot read kubelet config ${configFile}`);
  }
  const pick = (flag: string, fromFile: string | undefined): [string | null, string] => {
    const f = flags.get(flag);
    if (f !== undefined) return [f, 'cmdline'];
    if (fromFile !== undefined) return [fromFile, `config ${configFile ?? ''}`];
    return [null, 'default'];
  };
  const [driver, driverSrc] = pick('cgroup-driver', file.cgroupDriver);
  out.cgroupDriver = asDriver(driver ?? undefined);
  out.sources.cgroupDriver = out.cgroupDriver === null ? 'default' : driverSrc;
  if (driver !== null && out.cgroupDriver === null)
    out.problems.push(`unknown kubelet cgroup driver ${JSON.stringify(driver)}`);
  [out.cgroupRoot, out.sources.cgroupRoot] = pick('cgroup-root', file.cgroupRoot);
  [out.containerRuntimeEndpoint, out.sources.containerRuntimeEndpoint] = pick(
    'container-runtime-endpoint',
    file.containerRuntimeEndpoint,
  );
  return out;
}
