import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NativeLayout } from '../events/layout';

export interface HookReport {
  group: string;
  hook: string;
  attached: boolean;
  reason: string;
}

export interface TracerOptions {
  objectDir: string;
  probes: string[];
  optional?: string[];
  ringBufferBytes?: number;
  argvBytes?: number;
  wakeupBytes?: number;
  drainIntervalMs?: number;
  batchBytes?: number;
  maxPendingBatches?: number;
  /** Attribution hierarchy: 0 (default) = cgroup2; else a cgroup v1 hierarchy id (see cgroupV1Ssid). */
  cgroupHierarchy?: number;
  /** Subsystem id (line index in /proc/cgroups) of the v1 controller whose hierarchy attributes. */
  cgroupV1Ssid?: number;
  /** Further `const volatile` globals by name (little-endian bytes), set in every object declaring them. */
  rodata?: Record<string, Buffer>;
  /** Maps resized before load, by name (e.g. the dns in-flight table). */
  mapSizes?: Record<string, number>;
  /** The cgroup2 directory cgroup programs attach to (the root of the hierarchy). */
  cgroupPath?: string;
  /** libbpf's log lines (level 0 warn, 1 info, 2 debug) during start(). */
  log?: (level: number, message: string) => void;
}

export interface TracerStats {
  records: number;
  bytes: number;
  batches: number;
  wakeups: number;
  stalls: number;
  /** Batch buffers the drain thread allocated (its recycled pool was empty). */
  allocations: number;
  running: boolean;
}

/** The addon's Tracer (native/tracer.cc). */
export interface NativeTracer {
  /** Loads and attaches; throws an Error with errno/code/syscall naming the failed step. */
  start(): HookReport[];
  /** The next batch of raw records; null once closed and drained. One call at a time. */
  next(): Promise<Buffer | null>;
  /**
   * Like next(), but copies the batch into `target` and resolves with its length, returning the
   * native buffer to the drain thread's pool (no allocation, nothing left for the GC to free).
   * A batch longer than `target` comes back as its own Buffer, as from next().
   */
  nextInto(target: Buffer): Promise<number | Buffer | null>;
  /** Failed ring-buffer reserves per event kind (index = kind), summed over CPUs. */
  losses(): number[];
  stats(): TracerStats;
  /** Detaches, stops the drain thread after a final drain, frees every fd. Idempotent. */
  close(): void;
  /** Records not produced on purpose, summed over CPUs: [reason][kind] (reasons: 0 scope, 1 rate limit, 2 table full). */
  drops(): number[][];
  /** Scope mode: 0 off, 1 deny listed cgroups, 2 allow only listed cgroups. */
  scopeMode(mode: number): void;
  scopeUpdate(add: readonly number[], remove: readonly number[]): void;
  scopeClear(): void;
  scopeList(): number[];
  /** Takes the run-queue histograms out of the kernel as sched.runqueue records (null without `sched`). */
  drainSched(intervalNs: number): Buffer | null;
}

export interface NativeAddon {
  Tracer: new (options: TracerOptions) => NativeTracer;
  layout(): NativeLayout;
  clockOffsetNs(): number;
  recordVersion: number;
}

/**
 * The package root: the nearest directory above this file holding package.json and the build
 * (or the sources to build). tsc copies package.json into dist/, which is not the root.
 */
export function packageRoot(): string {
  let dir = __dirname;
  const isRoot = (d: string): boolean =>
    existsSync(join(d, 'package.json')) &&
    (existsSync(join(d, 'build')) || existsSync(join(d, 'CMakeLists.txt')));
  while (!isRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`podtrace: no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Where the build puts the BPF objects; PODTRACE_BPF_DIR overrides (e.g. in the container image). */
export function bpfObjectDir(): string {
  return process.env.PODTRACE_BPF_DIR ?? join(packageRoot(), 'build', 'bpf');
}

let cached: NativeAddon | undefined;

/** Loads build/Release/podtrace_native.node, with a message that says how to build it. */
export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const path = join(packageRoot(), 'build', 'Release', 'podtrace_native.node');
  if (!existsSync(path))
    throw new Error(`podtrace native addon not built: ${path} is missing (run: npm run build)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached = require(path) as NativeAddon;
  return cached;
}
