import { closeSync, openSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PermanentError } from '../core/errors';
import { effectiveCapabilities, hasCapability, missingCapabilities } from './capabilities';
import { capabilitiesFor } from './namespace-kinds';
import type { NamespaceKind } from './namespace-kinds';

/** exec cannot proceed: missing capability, guarded namespace, command not found. One line. */
export class ExecError extends PermanentError {}

/** The namespace file of a process: `<procBase>/<pid>/ns/<kind>`. */
export function namespacePath(procBase: string, pid: number, kind: NamespaceKind): string {
  return join(procBase, String(pid), 'ns', kind);
}

/**
 * Checks, before anything is spawned, that this process can enter the namespaces: the capabilities
 * setns(2) needs are effective (CAP_SYS_ADMIN; CAP_SYS_CHROOT for mnt), and every
 * /proc/<pid>/ns/<kind> opens — where it does not (EACCES/EPERM: the ptrace access check guards
 * another process's namespace links), the error names CAP_SYS_PTRACE when it is missing.
 */
export function checkNamespaceAccess(
  procBase: string,
  pid: number,
  kinds: readonly NamespaceKind[],
  caps: bigint = effectiveCapabilities(),
): void {
  const missing = missingCapabilities(caps, capabilitiesFor(kinds));
  if (missing.length > 0)
    throw new ExecError(
      `podtrace exec needs ${missing.join(' and ')} to enter namespaces (setns) of pid ${pid}: it is not in this process's effective set (CapEff ${caps.toString(16)}); run as root with ${missing.join(', ')} (see deploy/README.md)`,
    );
  for (const kind of kinds) {
    const p = namespacePath(procBase, pid, kind);
    try {
      closeSync(openSync(p, 'r'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        const why = hasCapability(caps, 'SYS_PTRACE')
          ? 'although CAP_SYS_PTRACE is effective (an LSM such as Yama or AppArmor, or a user namespace, guards it)'
          : 'podtrace needs CAP_SYS_PTRACE to open another process\u2019s namespaces; it is not in this process\u2019s effective set';
        throw new ExecError(`cannot open ${p} (${code}): ${why}`);
      }
      if (code === 'ENOENT')
        throw new ExecError(`cannot open ${p}: the process is gone or this kernel has no ${kind} namespaces`);
      throw new ExecError(`cannot open ${p}: ${(err as Error).message}`);
    }
  }
}

/** The namespace inode (`net:[4026531840]`) of a process, null when it cannot be read. */
export function namespaceId(procBase: string, pid: number | 'self', kind: NamespaceKind): string | null {
  try {
    return readlinkSync(join(procBase, String(pid), 'ns', kind));
  } catch {
    return null;
  }
}
