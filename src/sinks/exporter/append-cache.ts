/** A record as appended, kept decoded with where it lies in its segment. */
export interface Cached<T, S> {
  item: T;
  size: number;
  events: number;
  seg: S;
  start: number;
  end: number;
}

/**
 * The newest records a disk queue appended, still decoded (at most `capacity`): a queue that
 * keeps up reads them from here instead of reading its own writes back. Always a contiguous run
 * ending at the write position; the oldest fall out first (they are then read from the file).
 */
export class AppendCache<T, S> {
  private entries: Cached<T, S>[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** The oldest cached record, if any. */
  get first(): Cached<T, S> | undefined {
    return this.entries[this.head];
  }

  push(entry: Cached<T, S>): void {
    this.entries.push(entry);
    if (this.entries.length - this.head > this.capacity) this.head++;
    this.compact();
  }

  /** Forgets the oldest record. */
  shift(): void {
    this.head++;
    this.compact();
  }

  /** Forgets the records of `seg` at the head (a segment dropped whole). */
  dropSegment(seg: S): void {
    while (this.entries[this.head]?.seg === seg) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
