import type { DecodeStats } from '../events/decode';
import { NAMED_KINDS, eventName } from '../events/event-kind';
import type { Metrics } from '../telemetry/metrics';

/**
 * Adds what a decoder counted since the last call to `podtrace_events_received_total`, and the
 * records it could not decode to `podtrace_dropped_total{stage="decode",reason="malformed"}`
 * (per batch, not per event).
 */
export class ReceivedCounter {
  private readonly last = new Array<number>((NAMED_KINDS[NAMED_KINDS.length - 1] ?? 0) + 1).fill(0);
  private lastMalformed = 0;

  constructor(
    private readonly stats: DecodeStats,
    private readonly metrics: Metrics,
  ) {}

  update(): void {
    const malformed = this.stats.malformed - this.lastMalformed;
    if (malformed > 0) {
      this.metrics.dropped.inc({ stage: 'decode', reason: 'malformed' }, malformed);
      this.lastMalformed = this.stats.malformed;
    }
    for (const k of NAMED_KINDS) {
      const now = this.stats.perKind[k] ?? 0;
      const delta = now - (this.last[k] ?? 0);
      if (delta > 0) {
        this.metrics.eventsReceived.inc({ kind: eventName(k) }, delta);
        this.last[k] = now;
      }
    }
  }
}
