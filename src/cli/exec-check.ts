import { findHostCommand } from '../exec/command-lookup';
import { effectiveCapabilities, missingCapabilities } from '../exec/capabilities';
import { NSENTER } from '../exec/nsenter-runner';
import type { CheckResult } from './check-command';

/**
 * What `podtrace exec` needs beyond the agent: nsenter (util-linux), CAP_SYS_ADMIN (setns),
 * CAP_SYS_CHROOT (for `--ns mnt`) and CAP_SYS_PTRACE (opening another process's /proc/<pid>/ns
 * links when its capabilities exceed podtrace's). A warning, not a failure: the agent runs without.
 */
export function execCheck(status = '/proc/self/status'): CheckResult {
  let caps: bigint;
  try {
    caps = effectiveCapabilities(status);
  } catch {
    caps = 0n;
  }
  const missing = missingCapabilities(caps, ['SYS_ADMIN', 'SYS_PTRACE', 'SYS_CHROOT']);
  const nsenter = findHostCommand(NSENTER);
  const problems = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(nsenter === null ? ['nsenter not on PATH'] : []),
  ];
  if (problems.length === 0)
    return {
      status: 'ok',
      name: 'exec',
      detail: `CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_CHROOT effective; ${nsenter ?? NSENTER}`,
    };
  return {
    status: 'warn',
    name: 'exec',
    detail: `podtrace exec cannot enter pod namespaces here: ${problems.join('; ')} (the agent does not need them)`,
    hint: 'run exec as root with CAP_SYS_ADMIN (setns), CAP_SYS_PTRACE (guarded /proc/<pid>/ns) and CAP_SYS_CHROOT (--ns mnt), with util-linux installed; see deploy/README.md',
  };
}
