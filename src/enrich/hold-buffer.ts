import { BoundedQueue } from '../core/bounded-queue';

/** What a hold buffer asks of its owner. */
export interface HoldHooks<T> {
  now(): number;
  /** Whether a held item may leave now (what it waits for is known, or its deadline passed). */
  ready(item: T, now: number): boolean;
  /** Items leaving, in arrival order (released, all on `release(true)`, or the oldest on overflow). */
  release(items: T[]): void;
  /** Each item that stays held after a release pass: a chance to look again for what it waits for. */
  waiting?(item: T, now: number): void;
  /** The oldest item leaves early because the buffer is full (it is released, not lost). */
  overflow?(item: T): void;
  /** Every tick of the re-check timer, before its release pass. */
  tick?(): void;
  /** After every release pass, with the number of items still held. */
  settled?(held: number): void;
}

/**
 * Items (events) held until what they wait for is known: a bounded FIFO — when full, the oldest
 * leaves early — re-checked every `tickMs` while anything is held. A release pass keeps arrival
 * order among the items that leave; a ready item does not wait behind an older one still held.
 */
export class HoldBuffer<T> {
  private readonly queue: BoundedQueue<T>;
  private timer: NodeJS.Timeout | null = null;
  private releasing = false;

  constructor(
    capacity: number,
    private readonly tickMs: number,
    private readonly hooks: HoldHooks<T>,
  ) {
    this.queue = new BoundedQueue<T>(capacity, 'oldest', (oldest) => {
      hooks.overflow?.(oldest);
      hooks.release([oldest]);
    });
  }

  get length(): number {
    return this.queue.length;
  }

  /** Holds an item; the re-check timer runs from now until nothing is held. */
  push(item: T): void {
    this.queue.push(item);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        this.hooks.tick?.();
        this.release(false);
      }, this.tickMs);
    }
  }

  /** Releases the items that are ready (every item when `all`). A call from within a pass is ignored. */
  release(all: boolean): void {
    if (this.releasing) return;
    this.releasing = true;
    try {
      const now = this.hooks.now();
      const stay: T[] = [];
      const out: T[] = [];
      for (const item of this.queue.drain()) {
        if (all || this.hooks.ready(item, now)) out.push(item);
        else {
          stay.push(item);
          this.hooks.waiting?.(item, now);
        }
      }
      for (const item of stay) this.queue.push(item);
      if (this.queue.length === 0) this.stop();
      if (out.length > 0) this.hooks.release(out);
    } finally {
      this.releasing = false;
    }
    this.hooks.settled?.(this.queue.length);
  }

  /** Stops the re-check timer (held items stay until the next release). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
