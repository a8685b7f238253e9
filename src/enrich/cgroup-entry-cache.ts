import type { EnrichmentOutcome } from '../events/event';
import type { WorkloadMeta } from '../events/workload-meta';
import type { CgroupClass } from './cgroup/cgroup-layout';

export type Outcome = Exclude<EnrichmentOutcome, 'pending'>;

/** What the enricher knows about one cgroup id: the hot-path cache entry. */
export interface CgroupEntry {
  id: number;
  resolving: boolean;
  resolvedOnce: boolean;
  cls: CgroupClass | null;
  meta: WorkloadMeta | null;
  outcome: Outcome;
  keep: boolean;
  firstSeen: number;
  holdUntil: number;
  nextRetryAt: number;
  /** The batch that last used this entry (LRU: moved to the map's end once per batch). */
  usedInBatch: number;
}

/** Why an entry left the cache: the kernel removed the cgroup, the cache was full, or its pod or container went away. */
export type EntryEviction = 'rmdir' | 'lru' | 'removed';

/** The pod an entry's cgroup belongs to, when its path says. */
export function podUidOf(entry: CgroupEntry): string | null {
  const c = entry.cls;
  return c !== null && (c.kind === 'container' || c.kind === 'pod') ? c.podUid : null;
}

/**
 * The enricher's cgroup id → entry cache: at most `maxEntries`, least recently used evicted
 * first, indexed by pod so a pod or container change reaches its entries without a scan.
 */
export class CgroupEntryCache {
  private readonly entries = new Map<number, CgroupEntry>();
  private readonly byPod = new Map<string, Set<CgroupEntry>>();

  constructor(
    private readonly maxEntries: number,
    /** Every entry that leaves, and why. */
    private readonly onForget: (entry: CgroupEntry, why: EntryEviction) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: number): CgroupEntry | undefined {
    return this.entries.get(id);
  }

  values(): IterableIterator<CgroupEntry> {
    return this.entries.values();
  }

  /** Marks an entry used by batch `seq`: it moves to the LRU end once per batch, not per event. */
  touch(entry: CgroupEntry, seq: number): void {
    if (entry.usedInBatch === seq) return;
    entry.usedInBatch = seq;
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
  }

  /** Adds a new entry, evicting the least recently used one when full. */
  add(entry: CgroupEntry): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.values().next();
      if (oldest.done !== true) this.forget(oldest.value, 'lru');
    }
    this.entries.set(entry.id, entry);
  }

  /** Indexes an entry under its pod (once its path is classified), unless it was forgotten meanwhile. */
  indexByPod(entry: CgroupEntry): void {
    const uid = podUidOf(entry);
    if (uid === null || this.entries.get(entry.id) !== entry) return;
    let set = this.byPod.get(uid);
    if (set === undefined) this.byPod.set(uid, (set = new Set()));
    set.add(entry);
  }

  /** The entries of one pod (a copy: callers may forget entries while iterating). */
  ofPod(podUid: string): CgroupEntry[] {
    const set = this.byPod.get(podUid);
    return set === undefined ? [] : [...set];
  }

  /** Removes an entry; a second call, or one for an entry already replaced under its id, does nothing. */
  forget(entry: CgroupEntry, why: EntryEviction): void {
    const uid = podUidOf(entry);
    const set = uid === null ? undefined : this.byPod.get(uid);
    if (set !== undefined && set.delete(entry) && set.size === 0) this.byPod.delete(uid as string);
    if (this.entries.get(entry.id) !== entry) return;
    this.entries.delete(entry.id);
    this.onForget(entry, why);
  }
}
