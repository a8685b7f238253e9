import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { PROBE_GROUPS } from '../events/event-kind';
import { bpfObjectDir, loadNativeAddon } from '../native/native-addon';
import { errorMessage } from '../core/errors';
import type { PodtraceConfig } from '../config/config';
import { cgroupProgramRoot } from '../enrich/cgroup/cgroup-mount';
import { ebpfMapSizes, ebpfRodata } from '../sources/ebpf-settings';
import { attributionCheck, cgroupLayoutCheck, criCheck, kubernetesCheck, sinkChecks } from './node-checks';
import { execCheck } from './exec-check';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  status: CheckStatus;
  name: string;
  detail: string;
  /** What to do when it fails. */
  hint?: string;
}

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

export function parseKernelVersion(s: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(s);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Effective capabilities from /proc/self/status (CapEff, hex). */
export function effectiveCaps(status: string): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

function hasCap(caps: bigint, bit: number): boolean {
  return (caps & (1n << BigInt(bit))) !== 0n;
}

interface Mount {
  dir: string;
  type: string;
}

export function parseMounts(text: string): Mount[] {
  return text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 3)
    .map((f) => ({ dir: f[1] as string, type: f[2] as string }));
}

export function kernelChecks(procBase = '/proc'): CheckResult[] {
  const out: CheckResult[] = [];
  const rel = release();
  const v = parseKernelVersion(rel);
  out.push(
    v !== null && (v[0] > 5 || (v[0] === 5 && v[1] >= 8))
      ? { status: 'ok', name: 'kernel', detail: rel }
      : {
          status: 'fail',
          name: 'kernel',
          detail: `${rel} is older than 5.8`,
          hint: 'podtrace needs Linux >= 5.8 (BPF ring buffer)',
        },
  );
  out.push(
    existsSync('/sys/kernel/btf/vmlinux')
      ? { status: 'ok', name: 'btf', detail: '/sys/kernel/btf/vmlinux' }
      : {
          status: 'fail',
          name: 'btf',
          detail: 'no BTF at /sys/kernel/btf/vmlinux',
          hint: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (all supported EKS/AKS node images have it)',
        },
  );
  const caps = effectiveCaps(readFileSync(`${procBase}/self/status`, 'utf8'));
  const bpfOk = hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON));
  const names = [
    [CAP_BPF, 'CAP_BPF'],
    [CAP_PERFMON, 'CAP_PERFMON'],
    [CAP_SYS_ADMIN, 'CAP_SYS_ADMIN'],
  ] as const;
  out.push({
    status: bpfOk ? 'ok' : 'fail',
    name: 'capabilities',
    detail: names.map(([bit, n]) => `${n}=${hasCap(caps, bit) ? 'yes' : 'no'}`).join(' '),
    ...(bpfOk
      ? {}
      : {
          hint: 'eBPF not permitted: run as root or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN on kernels < 5.8)',
        }),
  });
  const mounts = parseMounts(readFileSync(`${procBase}/self/mounts`, 'utf8'));
  const bpffs = mounts.find((m) => m.type === 'bpf');
  out.push(
    bpffs
      ? { status: 'ok', name: 'bpffs', detail: bpffs.dir }
      : {
          status: 'warn',
          name: 'bpffs',
          detail: 'not mounted (podtrace pins nothing, so it can run without it)',
          hint: 'mount -t bpf bpf /sys/fs/bpf',
        },
  );
  const tracefs = mounts.find((m) => m.type === 'tracefs');
  out.push(
    tracefs
      ? { status: 'ok', name: 'tracefs', detail: tracefs.dir }
      : {
          status: 'warn',
          name: 'tracefs',
          detail: 'not mounted (tracepoints attach without it on kernels >= 4.17)',
          hint: 'mount -t tracefs tracefs /sys/kernel/tracing',
        },
  );
  const cg2 = mounts.filter((m) => m.type === 'cgroup2');
  const cg1 = mounts.some((m) => m.type === 'cgroup');
  const pure = cg2.find((m) => m.dir === '/sys/fs/cgroup');
  out.push(
    cg2.length === 0
      ? {
          status: 'fail',
          name: 'cgroup v2',
          detail: 'no cgroup2 mount',
          hint: 'events cannot be attributed to pods without cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1, or hybrid)',
        }
      : {
          status: 'ok',
          name: 'cgroup v2',
          detail: `${(pure ?? cg2[0])?.dir ?? ''}${!pure && cg1 ? ' (hybrid: cgroup v1 controllers beside it)' : ''}`,
        },
  );
  return out;
}

const SYS_ENTER = 'tracepoint/syscalls/sys_enter_';
const SYS_EXIT = 'tracepoint/syscalls/sys_exit_';

/** A group's hooks for its check line, entry/exit pairs of syscall tracepoints folded into one item. */
export function hookSummary(hooks: readonly string[]): string {
  const all = new Set(hooks);
  const paired = hooks
    .filter((h) => h.startsWith(SYS_ENTER))
    .map((h) => h.slice(SYS_ENTER.length))
    .filter((name) => all.has(SYS_EXIT + name));
  if (paired.length === 0) return hooks.join(', ');
  const folded = new Set(paired.flatMap((name) => [SYS_ENTER + name, SYS_EXIT + name]));
  const rest = hooks.filter((h) => !folded.has(h));
  return [...rest, `tracepoint/syscalls/sys_{enter,exit}_{${paired.join(',')}}`].join(', ');
}

/**
 * Loads and attaches every probe group on its own (with the configured settings): an enabled group
 * that fails is a failure, an opt-in group that is not enabled is reported as such, or as a warning
 * when this kernel could not run it either.
 */
export function probeChecks(config: PodtraceConfig, groups: readonly string[] = PROBE_GROUPS): CheckResult[] {
  let addon;
  try {
    addon = loadNativeAddon();
  } catch (err) {
    return [{ status: 'fail', name: 'addon', detail: errorMessage(err), hint: 'npm run build' }];
  }
  const enabled = new Set<string>(config.source.ebpf.probes);
  const cgroupPath = cgroupProgramRoot(config.enrich, config.enrich.cgroupMode === 'v1');
  return groups.map((g) => {
    const t = new addon.Tracer({
      objectDir: bpfObjectDir(),
      probes: [g],
      ringBufferBytes: 4096 * 16,
      rodata: ebpfRodata(config.source.ebpf),
      mapSizes: ebpfMapSizes(config.source.ebpf),
      cgroupPath,
    });
    const name = `probes ${g}`;
    const off = enabled.has(g) ? '' : ' (opt-in: not enabled in source.ebpf.probes)';
    try {
      const hooks = t.start();
      return { status: 'ok' as const, name, detail: hookSummary(hooks.map((h) => h.hook)) + off };
    } catch (err) {
      return {
        status: enabled.has(g) ? ('fail' as const) : ('warn' as const),
        name,
        detail: errorMessage(err) + off,
        hint: 'see the hook and errno above; `podtrace run --probes` can leave this group out',
      };
    } finally {
      t.close();
    }
  });
}

export function formatCheck(r: CheckResult): string {
  return `${r.status.padEnd(4)} ${r.name.padEnd(16)} ${r.detail}${r.status !== 'ok' && r.hint ? `\n     → ${r.hint}` : ''}`;
}

/** `podtrace check [--config FILE]`: the node, the probes, then what enrichment and the sinks need. */
export async function checkCommand(
  config: PodtraceConfig,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const results = [
    ...kernelChecks(config.enrich.procBase),
    ...probeChecks(config),
    cgroupLayoutCheck(config),
    attributionCheck(config),
    await criCheck(config),
    await kubernetesCheck(config),
    ...(await sinkChecks(config)),
    execCheck(`${config.enrich.procBase}/self/status`),
  ];
  for (const r of results) out.write(`${formatCheck(r)}\n`);
  const failed = results.filter((r) => r.status === 'fail');
  out.write(
    failed.length === 0
      ? 'podtrace can run on this node\n'
      : `podtrace cannot run: ${failed.map((r) => r.name).join(', ')}\n`,
  );
  return failed.length === 0 ? 0 : 1;
}
