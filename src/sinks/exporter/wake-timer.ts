/**
 * One unref'd timer that calls `fire` at the earliest time asked for (performance.now() ms): the
 * batcher's max-delay wakeup. Asking for a later time while an earlier one is armed does nothing.
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | null = null;
  private at = Infinity;

  constructor(private readonly fire: () => void) {}

  arm(at: number): void {
    if (this.timer !== null && this.at <= at) return;
    this.clear();
    this.at = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.at = Infinity;
        this.fire();
      },
      Math.max(0, at - performance.now()),
    );
    this.timer.unref();
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.at = Infinity;
  }
}

/**
 * Resolves true after `ms`, false as soon as `signal` aborts. `keepAlive` holds the process open
 * for it (a retry wait during shutdown must not let the process exit early).
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal, keepAlive: boolean): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    if (!keepAlive) timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
