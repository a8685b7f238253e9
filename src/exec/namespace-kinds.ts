import type { CapabilityName } from './capabilities';

/** Namespace kinds `podtrace exec --ns` enters, by their /proc/<pid>/ns name. */
export type NamespaceKind = 'net' | 'uts' | 'ipc' | 'pid' | 'mnt' | 'cgroup';

export const NAMESPACE_KINDS: readonly NamespaceKind[] = ['net', 'uts', 'ipc', 'pid', 'mnt', 'cgroup'];

/** net, uts, ipc: host tools (tcpdump, ip, ss) run against the pod's network, hostname and IPC. */
export const DEFAULT_NAMESPACES: readonly NamespaceKind[] = ['net', 'uts', 'ipc'];

/** nsenter's option for each kind (util-linux spells mnt `--mount`). */
export const NSENTER_FLAG: Readonly<Record<NamespaceKind, string>> = {
  net: '--net',
  uts: '--uts',
  ipc: '--ipc',
  pid: '--pid',
  mnt: '--mount',
  cgroup: '--cgroup',
};

/**
 * setns(2) needs CAP_SYS_ADMIN for every kind here; a mount namespace also needs CAP_SYS_CHROOT
 * (the caller's root directory changes).
 */
export function capabilitiesFor(kinds: readonly NamespaceKind[]): CapabilityName[] {
  return kinds.includes('mnt') ? ['SYS_ADMIN', 'SYS_CHROOT'] : ['SYS_ADMIN'];
}

/** Parses `--ns net,uts,mnt`: known kinds, no duplicates, in the order given; a string says what is wrong. */
export function parseNamespaceKinds(value: string): NamespaceKind[] | string {
  const out: NamespaceKind[] = [];
  for (const raw of value.split(',')) {
    const k = raw.trim();
    if (k === '') continue;
    if (!(NAMESPACE_KINDS as readonly string[]).includes(k))
      return `--ns: "${k}" is not a namespace kind (one of ${NAMESPACE_KINDS.join(', ')})`;
    if (!out.includes(k as NamespaceKind)) out.push(k as NamespaceKind);
  }
  if (out.length === 0) return `--ns: no namespace kind given (one of ${NAMESPACE_KINDS.join(', ')})`;
  return out;
}
