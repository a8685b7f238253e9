import { accessSync, constants, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The PATH used inside a container whose environment does not say (the OCI runtime default). */
export const DEFAULT_CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function pathCandidates(command: string, path: string): string[] {
  if (command.includes('/')) return [command];
  return path
    .split(':')
    .filter((d) => d !== '')
    .map((d) => join(d, command));
}

/** Where `command` is on this host's PATH (executable), null when it is not. */
export function findHostCommand(command: string, path = process.env.PATH ?? ''): string | null {
  for (const c of pathCandidates(command, path)) {
    try {
      accessSync(c, constants.X_OK);
      if (lstatSync(c).isDirectory()) continue;
      return c;
    } catch {
      // next
    }
  }
  return null;
}

/** The container's PATH from its init's environment, else the OCI default. */
export function containerPath(procBase: string, pid: number): string {
  try {
    const env = readFileSync(join(procBase, String(pid), 'environ'), 'utf8').split('\0');
    const p = env.find((e) => e.startsWith('PATH='));
    if (p !== undefined) return p.slice(5);
  } catch {
    // environ is guarded like the ns links; the default is what runtimes use anyway
  }
  return DEFAULT_CONTAINER_PATH;
}

/**
 * Where `command` is in the container's filesystem (seen through `<procBase>/<pid>/root`), null
 * when it is not there. Only the entry's existence is checked (lstat): an absolute symlink inside
 * the image points into the container's root, which the path through /proc does not follow.
 */
export function findContainerCommand(procBase: string, pid: number, command: string): string | null {
  const root = join(procBase, String(pid), 'root');
  for (const c of pathCandidates(command, containerPath(procBase, pid))) {
    try {
      if (!lstatSync(join(root, c)).isDirectory()) return c;
    } catch {
      // next
    }
  }
  return null;
}
