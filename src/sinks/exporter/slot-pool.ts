/** A counting semaphore: `capacity` sender slots, waiters served first come, first served. */
export class SlotPool {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Slots free for new work (0 while a retry waits for one: retries go first). */
  get free(): number {
    return this.waiters.length > 0 ? 0 : this.capacity - this.used;
  }

  take(): void {
    this.used++;
  }

  /** Waits for a slot: true once granted, false (without one) when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (this.used < this.capacity && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve(true);
    }
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.used--;
  }
}
