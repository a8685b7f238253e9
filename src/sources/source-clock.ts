import { setImmediate as immediate, setTimeout as sleepFor } from 'node:timers/promises';

/**
 * Time as the replay and synthetic sources see it, injectable so tests can drive pacing with a
 * fake clock instead of asserting on real time.
 */
export interface SourceClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms` (or early, without error, when `signal` aborts). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Lets other work run (I/O callbacks, timers) before the next batch. */
  yield(): Promise<void>;
}

export const realSourceClock: SourceClock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    if (signal.aborted) return;
    try {
      await sleepFor(ms, undefined, { signal });
    } catch {
      // aborted: the caller checks its own stop flag
    }
  },
  yield: async () => {
    await immediate();
  },
};

/**
 * Paces a stream to `rate` events per second: `take(n)` resolves when `n` more events may go
 * (the batch leaves when its last event is due, so the long-run rate never exceeds `rate`).
 * A rate of 0 means as fast as possible (only yields between batches).
 */
export class Pacer {
  private started: number | undefined;
  private sent = 0;

  constructor(
    readonly rate: number,
    private readonly clock: SourceClock,
  ) {}

  get eventsSent(): number {
    return this.sent;
  }

  async take(n: number, signal: AbortSignal): Promise<void> {
    this.started ??= this.clock.now();
    this.sent += n;
    if (this.rate <= 0) {
      await this.clock.yield();
      return;
    }
    const due = this.started + (this.sent * 1000) / this.rate;
    const wait = due - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait, signal);
    else await this.clock.yield();
  }
}
