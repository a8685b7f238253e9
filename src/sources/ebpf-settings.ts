import { readlinkSync } from 'node:fs';
import { EVENT_NAMES } from '../events/event-kind';
import type { EventKind } from '../events/event-kind';
import { signalNumber } from '../events/signal-names';
import type { EbpfSourceConfig } from './ebpf-config';
import { FILE_SKIP_SLOTS, PSEUDO_FILESYSTEMS } from './pseudo-filesystems';

/** Slots of the per-kind tables in the kernel (PT_KIND_SLOTS). */
const KIND_SLOTS = 32;
/** Ports of pt_dns_ports (the schema allows at most this many). */
const DNS_PORT_SLOTS = 8;

const KIND_BY_NAME = new Map<string, number>(
  Object.entries(EVENT_NAMES).map(([k, name]) => [name, Number(k) as EventKind]),
);

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

/** Bit n set for every signal number n in `names` (unknown names are a config error, reported here). */
export function signalMask(names: readonly string[]): bigint {
  let mask = 0n;
  names.forEach((name, i) => {
    const n = signalNumber(name);
    if (n === null)
      throw new Error(`source.ebpf.signal.ignore[${i}]: "${name}" is not a signal name or number`);
    mask |= 1n << BigInt(n);
  });
  return mask;
}

/** Inode of the initial PID namespace (PROC_PID_INIT_INO): the one bpf_get_current_pid_tgid() speaks. */
const INIT_PID_NS = 'pid:[4026531836]';

/**
 * podtrace's pid as the kernel's programs see it, or 0 when it runs in a PID namespace of its own
 * (its pid there means another process on the host; then its own I/O is not told apart).
 */
export function hostPid(): number {
  try {
    return readlinkSync('/proc/self/ns/pid') === INIT_PID_NS ? process.pid : 0;
  } catch {
    return 0;
  }
}

/** pt_file_skip_magic: the superblock magics whose files produce no file.* record (0 ends the list). */
export function fileSkipMagics(config: EbpfSourceConfig): Buffer {
  const out = Buffer.alloc(FILE_SKIP_SLOTS * 4);
  if (config.file.includePseudoFilesystems) return out;
  Object.values(PSEUDO_FILESYSTEMS)
    .slice(0, FILE_SKIP_SLOTS)
    .forEach((m, i) => out.writeUInt32LE(m, i * 4));
  return out;
}

/**
 * The `const volatile` globals of the probe groups (bpf/*.bpf.c), as the addon sets them before
 * load: each object takes the ones it declares.
 */
export function ebpfRodata(config: EbpfSourceConfig, selfPid = hostPid()): Record<string, Buffer> {
  const ports = Buffer.alloc(DNS_PORT_SLOTS * 2);
  config.dns.ports.slice(0, DNS_PORT_SLOTS).forEach((p, i) => ports.writeUInt16LE(p, i * 2));
  const perKind = Buffer.alloc(KIND_SLOTS * 4);
  for (const [name, rate] of Object.entries(config.rateLimit.perKind)) {
    const kind = KIND_BY_NAME.get(name);
    if (kind !== undefined && kind < KIND_SLOTS) perKind.writeUInt32LE(rate, kind * 4);
  }
  return {
    pt_signal_ignore: u64(signalMask(config.signal.ignore)),
    pt_dns_ports: ports,
    pt_dns_timeout_ns: u64(BigInt(config.dns.timeoutMs) * 1_000_000n),
    pt_file_min_ns: u64(BigInt(config.file.minLatencyUs) * 1000n),
    pt_file_skip_magic: fileSkipMagics(config),
    pt_file_self_tgid: u32(selfPid),
    pt_rate_per_sec: u32(config.rateLimit.eventsPerSecondPerCgroup),
    pt_rate_kind: perKind,
  };
}

/** Map sizes the config decides. */
export function ebpfMapSizes(config: EbpfSourceConfig): Record<string, number> {
  return { pt_dns_inflight: config.dns.maxInflight };
}
