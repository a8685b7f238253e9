import type { DropPolicy } from '../../core/bounded-queue';
import type { PodtraceEvent } from '../../events/event';

/** Events taken from a SequencedBuffer with their sequence numbers (same index). */
export interface SequencedChunk {
  events: PodtraceEvent[];
  seqs: number[];
}

/**
 * The Kafka sink's bounded buffer: a ring of events with the `event.seq` each was given when the
 * sink accepted it (parallel arrays, no wrapper object per event). When full it drops the oldest
 * or the newest event; a dropped event's seq is never sent, which is the gap consumers see.
 */
export class SequencedBuffer {
  private readonly events: (PodtraceEvent | undefined)[];
  private readonly seqs: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly policy: DropPolicy,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.events = new Array<PodtraceEvent | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Adds an event; returns 1 when an event (this one or the oldest) was dropped, else 0. */
  push(event: PodtraceEvent, seq: number): number {
    if (this.count === this.capacity) {
      if (this.policy === 'newest') return 1;
      this.events[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.put(event, seq);
      return 1;
    }
    this.put(event, seq);
    return 0;
  }

  /** Removes and returns up to `max` events, oldest first. */
  drain(max: number): SequencedChunk {
    const n = Math.min(max, this.count);
    const events = new Array<PodtraceEvent>(n);
    const seqs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      events[i] = this.events[this.head] as PodtraceEvent;
      seqs[i] = this.seqs[this.head] as number;
      this.events[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= n;
    return { events, seqs };
  }

  private put(event: PodtraceEvent, seq: number): void {
    const at = (this.head + this.count) % this.capacity;
    this.events[at] = event;
    this.seqs[at] = seq;
    this.count++;
  }
}
