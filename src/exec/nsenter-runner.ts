import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { NSENTER_FLAG } from './namespace-kinds';
import type { NamespaceKind } from './namespace-kinds';
import { namespacePath } from './namespace-access';

/** The nsenter binary (util-linux, present on every node image and in podtrace's). */
export const NSENTER = 'nsenter';

/** Signals passed on to the command (SIGINT too: it may come from `kill`, not only a terminal). */
const FORWARDED: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/**
 * nsenter's argument vector: each namespace as an explicit file (`--net=<procBase>/<pid>/ns/net`),
 * so a podtrace whose host /proc is mounted elsewhere (`/host/proc`) enters the right ones, then
 * `--` and the command with its arguments exactly as given.
 */
export function nsenterArgs(
  procBase: string,
  pid: number,
  kinds: readonly NamespaceKind[],
  command: string,
  args: readonly string[],
): string[] {
  return [
    ...kinds.map((k) => `${NSENTER_FLAG[k]}=${namespacePath(procBase, pid, k)}`),
    '--',
    command,
    ...args,
  ];
}

/** Children of a process (CONFIG_PROC_CHILDREN), empty when the kernel does not list them. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Runs nsenter with stdin/stdout/stderr inherited and resolves with the command's exit code (128 +
 * signal number when a signal ended it, like a shell). Without `pid`, nsenter execs the command in
 * place; with `pid` it forks (a new pid namespace applies to children only) and only waits, so
 * forwarded signals go to its child.
 */
export function runNsenter(argv: readonly string[], forks: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    // The handlers go in before the spawn: the command can run, and whoever reads its output signal
    // this process, before the line after spawn() runs; without a handler that signal would kill
    // podtrace instead of reaching the command. (Handlers run from the event loop, after spawn.)
    const forward = (sig: NodeJS.Signals): void => {
      const pid = child.pid;
      if (pid === undefined || child.exitCode !== null) return;
      const targets = forks ? childrenOf(pid) : [];
      try {
        if (targets.length === 0) process.kill(pid, sig);
        for (const t of targets) process.kill(t, sig);
      } catch {
        // exited meanwhile
      }
    };
    for (const s of FORWARDED) process.on(s, forward);
    const child = spawn(NSENTER, argv, { stdio: 'inherit' });
    const done = (): void => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      done();
      if (code !== null) resolve(code);
      else resolve(128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}
