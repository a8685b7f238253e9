import { KeyFifo } from './key-fifo';

/** One key's queue and the batches of it in flight. */
export interface KeyState<T> {
  key: string;
  fifo: KeyFifo<T>;
  inFlight: number;
}

/**
 * The exporter core's in-memory queue: one FIFO per key (Kafka topic; one key otherwise), in the
 * order keys first appeared, with the item and byte totals the bounds are checked against. Items
 * carry a stamp (arrival order; the record id with a disk queue) so the oldest of any key is found.
 */
export class KeyedQueue<T> {
  readonly order: KeyState<T>[] = [];
  private readonly keys = new Map<string, KeyState<T>>();
  private last: KeyState<T> | null = null;
  items = 0;
  bytes = 0;

  push(key: string, item: T, size: number, stamp: number, now: number): void {
    this.keyState(key).fifo.push(item, size, stamp, now);
    this.items++;
    this.bytes += size;
  }

  /** Takes a batch from `ks` (see KeyFifo.take). */
  take(ks: KeyState<T>, maxItems: number, maxBytes: number, now: number): ReturnType<KeyFifo<T>['take']> {
    const taken = ks.fifo.take(maxItems, maxBytes, now);
    this.items -= taken.items.length;
    this.bytes -= taken.bytes;
    return taken;
  }

  /** Removes the oldest item of any key. */
  dropOldest(): T | undefined {
    let oldest: KeyState<T> | null = null;
    for (const k of this.order) if (oldest === null || k.fifo.headStamp < oldest.fifo.headStamp) oldest = k;
    const gone = oldest?.fifo.shift();
    if (gone === undefined) return undefined;
    this.items--;
    this.bytes -= gone.size;
    return gone.item;
  }

  forEach(fn: (item: T) => void): void {
    for (const k of this.order) k.fifo.forEach(fn);
  }

  /** Empties every key, calling `fn` for each item. */
  drain(fn: (item: T) => void): void {
    for (const k of this.order)
      for (let next = k.fifo.shift(); next !== undefined; next = k.fifo.shift()) fn(next.item);
    this.items = 0;
    this.bytes = 0;
  }

  private keyState(key: string): KeyState<T> {
    const last = this.last;
    if (last !== null && last.key === key) return last;
    let ks = this.keys.get(key);
    if (ks === undefined) {
      ks = { key, fifo: new KeyFifo<T>(), inFlight: 0 };
      this.keys.set(key, ks);
      this.order.push(ks);
    }
    this.last = ks;
    return ks;
  }
}
