import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Deepest directory level the inode index walks (kubepods layouts are ~5 levels deep). */
const MAX_WALK_DEPTH = 12;

/** Reads the cgroup2 path (`0::/path`) out of a `/proc/<pid>/cgroup` file's text. */
export function cgroup2PathOf(procCgroupText: string): string | null {
  for (const line of procCgroupText.split('\n')) {
    if (line.startsWith('0::')) {
      const p = line.slice(3).replace(/ \(deleted\)$/, '');
      return p === '' ? '/' : p;
    }
  }
  return null;
}

export interface ResolvedPath {
  path: string;
  via: 'proc' | 'index';
}

/**
 * cgroup id → cgroup2 path. The id of a cgroup is the inode number of its directory.
 * Fast path: the event's pid's `/proc/<pid>/cgroup`, confirmed by comparing the directory's inode.
 * Fallback: an inode index of the whole tree, rebuilt on a miss at most every `rescanMinIntervalMs`
 * (one walk in flight at a time), so a burst of unknown ids costs one walk, not one per id.
 */
export class CgroupPathResolver {
  private index = new Map<number, string>();
  private lastScanAt = Number.NEGATIVE_INFINITY;
  private scanning: Promise<void> | null = null;
  /** Walks done; read by tests and `podtrace check`. */
  scans = 0;

  constructor(
    readonly base: string,
    readonly procBase: string,
    private readonly rescanMinIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async resolve(cgroupId: number, pid: number): Promise<ResolvedPath | null> {
    if (cgroupId === 0) return null;
    if (pid > 0) {
      const p = await this.viaProc(cgroupId, pid);
      if (p !== null) return { path: p, via: 'proc' };
    }
    const known = this.index.get(cgroupId);
    if (known !== undefined && (await this.inodeOf(known)) === cgroupId) return { path: known, via: 'index' };
    if (this.now() - this.lastScanAt >= this.rescanMinIntervalMs || this.scanning !== null)
      await this.rescan();
    const found = this.index.get(cgroupId);
    return found === undefined ? null : { path: found, via: 'index' };
  }

  /** Path → cgroup id (inode), or null when the directory does not exist. */
  async inodeOf(path: string): Promise<number | null> {
    try {
      return (await stat(join(this.base, path))).ino;
    } catch {
      return null;
    }
  }

  private async viaProc(cgroupId: number, pid: number): Promise<string | null> {
    let text: string;
    try {
      text = await readFile(join(this.procBase, String(pid), 'cgroup'), 'utf8');
    } catch {
      return null;
    }
    const p = cgroup2PathOf(text);
    if (p === null) return null;
    return (await this.inodeOf(p)) === cgroupId ? p : null;
  }

  /** Rebuilds the inode index (shared by concurrent callers). */
  rescan(): Promise<void> {
    this.scanning ??= this.walk().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async walk(): Promise<void> {
    const next = new Map<number, string>();
    const visit = async (rel: string, depth: number): Promise<void> => {
      const ino = await this.inodeOf(rel);
      if (ino === null) return;
      next.set(ino, rel);
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
    this.index = next;
    this.scans++;
    this.lastScanAt = this.now();
  }
}
