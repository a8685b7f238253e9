/** What to drop when a bounded queue is full. */
export type DropPolicy = 'oldest' | 'newest';

/**
 * A FIFO with a hard capacity counted in items. It never grows past `capacity`: when full,
 * it drops by `policy` and counts what it dropped. A ring buffer, so push/shift are O(1).
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedCount = 0;

  constructor(
    readonly capacity: number,
    readonly policy: DropPolicy = 'newest',
    private readonly onDrop?: (item: T, n: number) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Adds an item; returns false when an item (this one or the oldest) was dropped. */
  push(item: T): boolean {
    if (this.count === this.capacity) {
      this.droppedCount++;
      if (this.policy === 'newest') {
        this.onDrop?.(item, 1);
        return false;
      }
      const oldest = this.shift() as T;
      this.onDrop?.(oldest, 1);
      this.pushUnchecked(item);
      return false;
    }
    this.pushUnchecked(item);
    return true;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Removes and returns up to `max` items, oldest first. */
  drain(max = this.count): T[] {
    const n = Math.min(max, this.count);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = this.shift() as T;
    return out;
  }

  private pushUnchecked(item: T): void {
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }
}
