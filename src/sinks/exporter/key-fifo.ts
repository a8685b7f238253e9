/**
 * A growable FIFO of items with their byte sizes and arrival stamps (parallel arrays: no wrapper
 * object per item). O(1) push and shift; the consumed head is compacted away in bulk.
 */
export class KeyFifo<T> {
  private items: (T | undefined)[] = [];
  private sizes: number[] = [];
  private stamps: number[] = [];
  private head = 0;
  bytes = 0;
  /** When the oldest item arrived (ms, performance.now()), for the batcher's max delay. */
  oldestAt = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The arrival stamp of the oldest item (Infinity when empty). */
  get headStamp(): number {
    return this.length === 0 ? Infinity : (this.stamps[this.head] as number);
  }

  push(item: T, size: number, stamp: number, now: number): void {
    if (this.length === 0) this.oldestAt = now;
    this.items.push(item);
    this.sizes.push(size);
    this.stamps.push(stamp);
    this.bytes += size;
  }

  /** Puts items back at the head (a batch to send again), keeping their order. */
  unshift(items: readonly T[], sizes: readonly number[], stamp: number, now: number): void {
    this.compact();
    this.items.unshift(...items);
    this.sizes.unshift(...sizes);
    this.stamps.unshift(...new Array<number>(items.length).fill(stamp));
    for (const s of sizes) this.bytes += s;
    this.oldestAt = Math.min(this.oldestAt || now, now);
  }

  forEach(fn: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) fn(this.items[i] as T);
  }

  /** Removes the oldest item (with its size). */
  shift(): { item: T; size: number } | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head] as T;
    const size = this.sizes[this.head] as number;
    this.items[this.head] = undefined;
    this.head++;
    this.bytes -= size;
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    return { item, size };
  }

  /** Removes the newest item. */
  pop(): { item: T; size: number } | undefined {
    if (this.length === 0) return undefined;
    const item = this.items.pop() as T;
    const size = this.sizes.pop() as number;
    this.stamps.pop();
    this.bytes -= size;
    return { item, size };
  }

  /** Takes up to `maxItems` items, stopping before `maxBytes` is passed (at least one item). */
  take(
    maxItems: number,
    maxBytes: number,
    now: number,
  ): { items: T[]; sizes: number[]; stamps: number[]; bytes: number } {
    const items: T[] = [];
    const sizes: number[] = [];
    const stamps: number[] = [];
    let bytes = 0;
    while (items.length < maxItems && this.length > 0) {
      const size = this.sizes[this.head] as number;
      if (items.length > 0 && bytes + size > maxBytes) break;
      stamps.push(this.stamps[this.head] as number);
      const next = this.shift()!;
      items.push(next.item);
      sizes.push(next.size);
      bytes += size;
    }
    if (this.length > 0) this.oldestAt = now;
    return { items, sizes, stamps, bytes };
  }

  private compact(): void {
    if (this.head === 0) return;
    this.items = this.items.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.stamps = this.stamps.slice(this.head);
    this.head = 0;
  }
}
