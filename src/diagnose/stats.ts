/** Nearest-rank percentile (p in 0..100) of ascending-sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Rows sorted by `count` descending (then key ascending, so ties are stable), first `n`. */
export function topN<T extends { count: number }>(rows: T[], n: number, key: (r: T) => string): T[] {
  return [...rows].sort((a, b) => b.count - a.count || key(a).localeCompare(key(b))).slice(0, n);
}

/**
 * A map with a bounded number of keys: past `maxKeys`, new keys share one overflow entry, so a
 * pod talking to a million peers costs O(maxKeys). `overflowed` counts what went there.
 */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  overflowed = 0;

  constructor(
    private readonly maxKeys: number,
    private readonly create: () => V,
    readonly overflowKey = '(other)',
  ) {}

  get(key: string): V {
    let v = this.map.get(key);
    if (v !== undefined) return v;
    if (this.map.size >= this.maxKeys) {
      this.overflowed++;
      key = this.overflowKey;
      v = this.map.get(key);
      if (v !== undefined) return v;
    }
    v = this.create();
    this.map.set(key, v);
    return v;
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Up to `max` samples of a stream (reservoir sampling with a fixed-seed generator, so a report is
 * reproducible from the same events), and how many were offered.
 */
export class Reservoir {
  readonly samples: number[] = [];
  seen = 0;
  private seed = 0x9e3779b9;

  constructor(private readonly max: number) {}

  add(v: number): void {
    this.seen++;
    if (this.samples.length < this.max) {
      this.samples.push(v);
      return;
    }
    // xorshift32
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    const j = (this.seed >>> 0) % this.seen;
    if (j < this.max) this.samples[j] = v;
  }

  sorted(): number[] {
    return [...this.samples].sort((a, b) => a - b);
  }
}

/** `12.3 ms`, `840 µs`, `1.20 s` from nanoseconds. */
export function formatNs(ns: number | null): string {
  if (ns === null) return '-';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${Math.round(ns / 1e3)} µs`;
}

/** Whole percent, at least 1 when the share is not zero. */
export function percent(part: number, whole: number): number {
  if (whole === 0 || part === 0) return 0;
  return Math.max(1, Math.round((100 * part) / whole));
}
