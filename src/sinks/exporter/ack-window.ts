/**
 * The disk queue's records read into memory and not yet acknowledged in order, by id (ids are
 * consecutive in read order). Records are acknowledged in any order; the window's head — the
 * committed position — moves only past an unbroken run of acknowledged ones. Parallel arrays from
 * `head`, compacted in bulk.
 */
export class AckWindow<S> {
  private segs: S[] = [];
  private starts: number[] = [];
  private events: number[] = [];
  private bytes: number[] = [];
  private acked: boolean[] = [];
  private head = 0;
  private baseId = 1;
  private nextId = 1;
  /** Events of every record from the head on (what a restart would send again). */
  pendingEvents = 0;

  get empty(): boolean {
    return this.head >= this.segs.length;
  }

  /** Where the oldest unacknowledged record starts (only when not empty). */
  get headSeg(): S {
    return this.segs[this.head]!;
  }

  get headStart(): number {
    return this.starts[this.head]!;
  }

  /** Adds the next record read; returns its id. */
  push(seg: S, start: number, end: number, events: number): number {
    this.segs.push(seg);
    this.starts.push(start);
    this.events.push(events);
    this.bytes.push(end - start);
    this.acked.push(false);
    this.pendingEvents += events;
    return this.nextId++;
  }

  /** Marks `ids`; returns the bytes of the records the head moved past (0: it did not move). */
  ack(ids: readonly number[]): number {
    for (const id of ids) {
      const i = this.head + (id - this.baseId);
      if (i >= this.head && i < this.acked.length) this.acked[i] = true;
    }
    let freed = 0;
    while (this.head < this.acked.length && this.acked[this.head] === true) {
      freed += this.bytes[this.head]!;
      this.pendingEvents -= this.events[this.head]!;
      this.head++;
      this.baseId++;
    }
    if (this.head > 4096 && this.head * 2 > this.acked.length) this.compact();
    return freed;
  }

  private compact(): void {
    this.segs = this.segs.slice(this.head);
    this.starts = this.starts.slice(this.head);
    this.events = this.events.slice(this.head);
    this.bytes = this.bytes.slice(this.head);
    this.acked = this.acked.slice(this.head);
    this.head = 0;
  }
}
