import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Deepest directory level the inode index walks (kubepods layouts are ~5 levels deep). */
const MAX_WALK_DEPTH = 12;
/**
 * `/proc/<pid>/cgroup` fallbacks in flight at once. A burst of new cgroups (the events of every
 * pod arriving while the start walk runs) queues here instead of holding thousands of file reads,
 * their promises and buffers at once (measured: +75 MB RSS for 10,000 containers); a queued
 * lookup the walk answered meanwhile takes the walk's answer and reads nothing.
 */
export const MAX_PROC_READS_IN_FLIGHT = 16;

/** Reads the cgroup2 path (`0::/path`) out of a `/proc/<pid>/cgroup` file's text. */
export function cgroup2PathOf(procCgroupText: string): string | null {
  return cgroupPathOf(procCgroupText, 0);
}

/** Reads the path of hierarchy `hierarchyId` (`<id>:<controllers>:/path`) out of `/proc/<pid>/cgroup`. */
export function cgroupPathOf(procCgroupText: string, hierarchyId: number): string | null {
  const prefix = `${hierarchyId}:`;
  for (const line of procCgroupText.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const colon = line.indexOf(':', prefix.length);
    if (colon < 0) continue;
    const p = line.slice(colon + 1).replace(/ \(deleted\)$/, '');
    return p === '' ? '/' : p;
  }
  return null;
}

/**
 * Where a path came from: `kernel` (cgroup_mkdir), `walk` (the start-up walk or a rescan), `proc`
 * (`/proc/<pid>/cgroup`, confirmed by inode).
 */
export type PathSource = 'kernel' | 'walk' | 'proc';

export interface ResolvedPath {
  path: string;
  via: PathSource;
}

export type EvictionReason = 'rmdir' | 'lru';

export interface CgroupPathResolverOptions {
  /** `enrich.maxCgroups`: paths kept at most (least recently used leave first). */
  maxEntries: number;
  /** The hierarchy whose line of `/proc/<pid>/cgroup` the fallback reads (0 = cgroup2). */
  hierarchyId?: number;
  now?: () => number;
  /** Called for every path that leaves the cache. */
  onEvict?: (reason: EvictionReason) => void;
  /** Called for every resolution, with how it was answered (`miss` when it was not). */
  onResolve?: (via: PathSource | 'miss') => void;
}

/**
 * cgroup id → path in the attribution hierarchy (the id of a cgroup is the inode of its directory).
 *
 * The kernel is the source: `learn()` takes the id and path of every cgroup_mkdir (relative to the
 * hierarchy's root, whatever cgroup namespace podtrace runs in), `forget()` every cgroup_rmdir, and
 * one walk of the tree at `start()` covers the cgroups that existed before. Lookups are then a map
 * hit. The fallbacks, each counted through `onResolve`: the event's `/proc/<pid>/cgroup` (confirmed
 * by the directory's inode, so a private cgroup namespace's `/../..` paths never match wrongly) and
 * a rescan of the tree at most every `rescanMinIntervalMs` (one walk in flight at a time).
 *
 * Bounded: at most `maxEntries` paths, least recently used evicted first, evictions reported.
 */
export class CgroupPathResolver {
  /** Insertion order is recency order: a hit moves the entry to the end. */
  private readonly paths = new Map<number, { path: string; via: PathSource }>();
  private lastScanAt = Number.NEGATIVE_INFINITY;
  private scanning: Promise<void> | null = null;
  private readonly now: () => number;
  /** Walks done; read by tests and `podtrace check`. */
  scans = 0;
  private procReads = 0;
  private readonly procWaiters: (() => void)[] = [];
  /** Most `/proc` fallbacks ever in flight at once (at most MAX_PROC_READS_IN_FLIGHT). */
  procReadsPeak = 0;
  /** `/proc/<pid>/cgroup` files read so far. */
  procReadsDone = 0;

  constructor(
    readonly base: string,
    readonly procBase: string,
    private readonly rescanMinIntervalMs: number,
    private readonly options: CgroupPathResolverOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Paths currently cached. */
  get size(): number {
    return this.paths.size;
  }

  /** The one walk at start: every cgroup that existed before podtrace. */
  start(): Promise<void> {
    return this.rescan();
  }

  /** A cgroup the kernel reported created (or a walk found). */
  learn(id: number, path: string, via: PathSource = 'kernel'): void {
    if (id === 0) return;
    this.paths.delete(id);
    this.paths.set(id, { path, via });
    while (this.paths.size > this.options.maxEntries) {
      const oldest = this.paths.keys().next();
      if (oldest.done === true) break;
      this.paths.delete(oldest.value);
      this.options.onEvict?.('lru');
    }
  }

  /** A cgroup the kernel reported removed: its id is never used again. */
  forget(id: number): boolean {
    const had = this.paths.delete(id);
    if (had) this.options.onEvict?.('rmdir');
    return had;
  }

  /** The cached path of `id`, without I/O or fallbacks (null when not cached). */
  cached(id: number): string | null {
    return this.paths.get(id)?.path ?? null;
  }

  async resolve(cgroupId: number, pid: number): Promise<ResolvedPath | null> {
    if (cgroupId === 0) return null;
    const hit = this.paths.get(cgroupId);
    if (hit !== undefined) {
      this.paths.delete(cgroupId);
      this.paths.set(cgroupId, hit);
      this.options.onResolve?.(hit.via);
      return { path: hit.path, via: hit.via };
    }
    if (pid > 0) {
      await this.procSlot();
      try {
        // Learned (kernel, walk, another event's /proc) while this one waited for its slot.
        const known = this.paths.get(cgroupId);
        if (known !== undefined) {
          this.options.onResolve?.(known.via);
          return { path: known.path, via: known.via };
        }
        const p = await this.viaProc(cgroupId, pid);
        if (p !== null) {
          this.learn(cgroupId, p, 'proc');
          this.options.onResolve?.('proc');
          return { path: p, via: 'proc' };
        }
      } finally {
        this.procReads--;
        this.procWaiters.shift()?.();
      }
    }
    if (this.now() - this.lastScanAt >= this.rescanMinIntervalMs || this.scanning !== null)
      await this.rescan();
    const found = this.paths.get(cgroupId);
    this.options.onResolve?.(found === undefined ? 'miss' : 'walk');
    return found === undefined ? null : { path: found.path, via: 'walk' };
  }

  /** Path → cgroup id (inode), or null when the directory does not exist. */
  async inodeOf(path: string): Promise<number | null> {
    try {
      return (await stat(join(this.base, path))).ino;
    } catch {
      return null;
    }
  }

  /** Waits for one of the MAX_PROC_READS_IN_FLIGHT slots (released in resolve's finally). */
  private async procSlot(): Promise<void> {
    while (this.procReads >= MAX_PROC_READS_IN_FLIGHT)
      await new Promise<void>((resolve) => this.procWaiters.push(resolve));
    this.procReads++;
    this.procReadsPeak = Math.max(this.procReadsPeak, this.procReads);
  }

  private async viaProc(cgroupId: number, pid: number): Promise<string | null> {
    this.procReadsDone++;
    let text: string;
    try {
      text = await readFile(join(this.procBase, String(pid), 'cgroup'), 'utf8');
    } catch {
      return null;
    }
    const p = cgroupPathOf(text, this.options.hierarchyId ?? 0);
    if (p === null) return null;
    return (await this.inodeOf(p)) === cgroupId ? p : null;
  }

  /** Walks the tree into the cache (shared by concurrent callers). */
  rescan(): Promise<void> {
    this.scanning ??= this.walk().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async walk(): Promise<void> {
    const visit = async (rel: string, depth: number): Promise<void> => {
      const ino = await this.inodeOf(rel);
      if (ino === null) return;
      // A path the kernel reported wins over what the walk sees (same answer, better provenance).
      if (this.paths.get(ino)?.via !== 'kernel') this.learn(ino, rel, 'walk');
      if (depth >= MAX_WALK_DEPTH) return;
      let entries;
      try {
        entries = await readdir(join(this.base, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.isDirectory()) await visit(rel === '/' ? `/${e.name}` : `${rel}/${e.name}`, depth + 1);
      }
    };
    await visit('/', 0);
    this.scans++;
    this.lastScanAt = this.now();
  }
}
