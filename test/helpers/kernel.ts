import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from './prereq';
import { packageRoot } from '../../src/native/native-addon';

/** Why the real-kernel tests cannot run here, or null when they can. */
export function missingBpf(): string | null {
  if (!isRoot()) return 'real eBPF tests need root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'real eBPF tests need BTF at /sys/kernel/btf/vmlinux';
  const root = packageRoot();
  if (!existsSync(join(root, 'build', 'Release', 'podtrace_native.node')))
    return 'native addon not built (npm run build:native)';
  if (!existsSync(join(root, 'build', 'bpf', 'process.bpf.o')))
    return 'BPF objects not built (npm run build:native)';
  return null;
}

export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

export function threads(): number {
  return readdirSync('/proc/self/task').length;
}

/** Polls `check` until it returns a value (not a timing assertion: a bounded wait for an event). */
export async function waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
