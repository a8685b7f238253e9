/** How a sink retries a failed send (after the Collector's exporterhelper `retry_on_failure`). */
export interface RetryConfig {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Give up on a batch once this much time passed since its first attempt (0: never). */
  maxElapsedMs: number;
}

/** Each delay is drawn from [d·(1-f), d·(1+f)] (the Collector's default randomization factor). */
export const RETRY_JITTER = 0.5;
const MULTIPLIER = 2;

/**
 * The retry state of one batch: exponential backoff with jitter, capped per delay and in total.
 * A server hint (gRPC RetryInfo, HTTP Retry-After) replaces the computed delay, still within the
 * elapsed budget.
 */
export class RetryBackoff {
  private backoff: number;
  readonly startedAt: number;
  attempts = 0;

  constructor(
    private readonly cfg: RetryConfig,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.backoff = cfg.initialBackoffMs;
    this.startedAt = now();
  }

  /**
   * The delay before the next attempt, or null when it would end past `maxElapsedMs` (a
   * `bounded: false` failure — the endpoint itself is away — is retried until shutdown; the
   * queue bound limits what it costs).
   */
  next(serverDelayMs: number | undefined, bounded = true): number | null {
    this.attempts++;
    const jittered = this.backoff * (1 - RETRY_JITTER + this.random() * 2 * RETRY_JITTER);
    this.backoff = Math.min(this.backoff * MULTIPLIER, this.cfg.maxBackoffMs);
    const delay = serverDelayMs ?? jittered;
    const budget = this.cfg.maxElapsedMs;
    if (bounded && budget > 0 && this.now() + delay - this.startedAt > budget) return null;
    return delay;
  }
}
