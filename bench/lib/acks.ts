import type { PodtraceEvent } from '../../src/events/event';
import type { Metrics } from '../../src/telemetry/metrics';

export interface AckResult {
  /** Events the destination acknowledged. */
  acked: number;
  /** Items the sink's own stage dropped (its unit: lines, spans, records). */
  dropped: number;
  /** ns from each acknowledged event's kernel-side timestamp to its acknowledgement (when asked). */
  latencyNs: Float64Array;
}

/** A Float64Array that grows by doubling. */
class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  at(i: number): number {
    return this.buf[i] as number;
  }
  view(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** For sinks whose acknowledgements name the events (null, console). */
export class ExactAcks {
  private acked = 0;
  private readonly lat = new Samples();

  constructor(private readonly latency: boolean) {}

  ack(events: readonly PodtraceEvent[]): void {
    this.acked += events.length;
    if (!this.latency) return;
    const t = nowNs();
    for (const e of events) this.lat.push(t - e.bootNs);
  }

  results(): AckResult {
    return { acked: this.acked, dropped: 0, latencyNs: this.lat.view() };
  }
}

/** Calls `fn(n)` whenever `podtrace_sink_exported_events_total{sink}` grows by n (chains with other hooks). */
export function onSinkExportedEvents(metrics: Metrics, sink: string, fn: (n: number) => void): void {
  const counter = metrics.sinkExportedEvents;
  const inner = counter.inc.bind(counter) as (a?: unknown, b?: unknown) => void;
  const hooked = (a?: unknown, b?: unknown): void => {
    inner(a, b);
    if (typeof a === 'object' && a !== null && (a as { sink?: unknown }).sink === sink)
      fn(typeof b === 'number' ? b : 1);
  };
  counter.inc = hooked;
}

/**
 * For sinks that only count what their destination acknowledged: acknowledgements are recorded
 * as (time, cumulative events delivered), from the exporter core's events counter (a Kafka
 * otlp_proto record or an OTLP request counts the events it carries). Both sinks export in
 * consumption order (with a few batches in flight), so after the run the events, in the order
 * consumed, are mapped onto the acknowledgements at the run's deliveries-per-event ratio (2 when a
 * Kafka sink writes json and otlp_proto): an event counts as acknowledged by the first export that
 * covers its position. Latencies are exact to within the batches in flight at once.
 */
export class ExportCounterAcks {
  private readonly ackTimes = new Samples();
  private readonly ackCumulative = new Samples();
  private readonly bootNs = new Samples();
  private delivered = 0;
  private consumedCount = 0;

  /** @param stage the sink's `sink`/`stage` label (its drops are counted in the same unit as its deliveries) */
  constructor(
    private readonly stage: string,
    private readonly metrics: Metrics,
    private readonly latency: boolean,
  ) {
    onSinkExportedEvents(metrics, stage, (n) => {
      this.delivered += n;
      this.ackTimes.push(nowNs());
      this.ackCumulative.push(this.delivered);
    });
  }

  consumed(events: readonly PodtraceEvent[]): void {
    this.consumedCount += events.length;
    if (this.latency) for (const e of events) this.bootNs.push(e.bootNs);
  }

  async results(): Promise<AckResult> {
    const dropped = await this.metrics.droppedCount(this.stage);
    const acked =
      this.delivered === 0
        ? 0
        : Math.round(this.consumedCount * (this.delivered / (this.delivered + dropped)));
    const lat = new Samples();
    if (this.latency && this.delivered > 0) {
      const perEvent = this.delivered / this.consumedCount;
      let j = 0;
      for (let k = 0; k < this.bootNs.length; k++) {
        const need = (k + 1) * perEvent - 1e-9;
        while (j < this.ackCumulative.length && this.ackCumulative.at(j) < need) j++;
        if (j === this.ackCumulative.length) break;
        lat.push(this.ackTimes.at(j) - this.bootNs.at(k));
      }
    }
    return { acked, dropped, latencyNs: lat.view() };
  }
}
