import { readFileSync } from 'node:fs';

/** Capability numbers (include/uapi/linux/capability.h) podtrace checks for. */
export const CAP = {
  SYS_CHROOT: 18,
  SYS_PTRACE: 19,
  SYS_ADMIN: 21,
  PERFMON: 38,
  BPF: 39,
} as const;

export type CapabilityName = keyof typeof CAP;

/** The effective capability set of this process (CapEff of /proc/self/status) as a bit mask. */
export function effectiveCapabilities(status = '/proc/self/status'): bigint {
  const line = readFileSync(status, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  if (line === undefined) return 0n;
  return BigInt(`0x${line.slice('CapEff:'.length).trim()}`);
}

export function hasCapability(mask: bigint, cap: CapabilityName): boolean {
  return ((mask >> BigInt(CAP[cap])) & 1n) === 1n;
}

/** `CAP_SYS_ADMIN` etc. of the ones missing from `mask`. */
export function missingCapabilities(mask: bigint, wanted: readonly CapabilityName[]): string[] {
  return wanted.filter((c) => !hasCapability(mask, c)).map((c) => `CAP_${c}`);
}
