/**
 * Converts kernel CLOCK_BOOTTIME nanoseconds to wall-clock (Unix) nanoseconds.
 *
 * The BPF programs stamp records with bpf_ktime_get_boot_ns(), which keeps counting through
 * suspend (unlike CLOCK_MONOTONIC). wall = boot + (CLOCK_REALTIME - CLOCK_BOOTTIME). The offset
 * moves when NTP steps or slews the realtime clock, so it is re-sampled every `refreshMs`
 * (default 1 s) by the addon (three clock reads, the tightest bracket wins).
 */
export const DEFAULT_CLOCK_REFRESH_MS = 1000;

export class BootClock {
  private offsetNs: number;
  private sampledAt = 0;

  constructor(
    private readonly sample: () => number,
    private readonly refreshMs = DEFAULT_CLOCK_REFRESH_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.offsetNs = sample();
    this.sampledAt = now();
  }

  /** Refreshes the offset when it is older than `refreshMs`; call once per batch, not per event. */
  refresh(): void {
    const t = this.now();
    if (t - this.sampledAt >= this.refreshMs) {
      this.offsetNs = this.sample();
      this.sampledAt = t;
    }
  }

  get offset(): number {
    return this.offsetNs;
  }

  toUnixNs(bootNs: number): number {
    return bootNs + this.offsetNs;
  }
}

/** Fallback offset from JS clocks (used by replay and tests without the addon). */
export function jsClockOffsetNs(): number {
  // performance.timeOrigin + now() is CLOCK_REALTIME; process.hrtime is CLOCK_MONOTONIC, which
  // equals BOOTTIME on machines that never suspended. Good enough where no addon is loaded.
  return Date.now() * 1e6 - Number(process.hrtime.bigint());
}
