import { agentInstanceId } from '../../core/instance-id';
import type { Metrics } from '../../telemetry/metrics';
import { KAFKA_JSON_SCHEMA_VERSION } from './kafka-json-encoder';

/** Cumulative counts since start, by a name (e.g. event kind). */
export type LossSource = () => Promise<Record<string, number>>;

export interface LossDrop {
  stage: string;
  reason: string;
  count: number;
}

/** The `<prefix>loss` record value (see config/schemas/kafka-loss.schema.json). */
export interface LossRecord {
  'record.type': 'loss';
  'podtrace.schema': number;
  'k8s.node.name': string;
  /** The agent run (new on every start); `event.seq` counts within it. */
  'podtrace.instance.id': string;
  /** Start and end of the interval this record covers. */
  'interval.start_unix_nano': number;
  time_unix_nano: number;
  /** The event.seq values the sink assigned in the interval (null when it accepted none). */
  'event.seq.first': number | null;
  'event.seq.last': number | null;
  'dropped.total': number;
  drops: LossDrop[];
}

const SEP = '\u0000';

/**
 * Turns cumulative drop counters into per-interval summaries. Sources: every stage's
 * `podtrace_dropped_total{stage,reason}` (queue, enrichment, sinks — this one included), and the
 * kernel ring-buffer losses, from `lossSource()` when given, else `podtrace_kernel_lost_events{kind}`.
 */
export class LossReporter {
  private last = new Map<string, number>();
  private lastSeq = 0;
  private lastTimeNs: number;

  constructor(
    private readonly metrics: Metrics,
    private readonly nodeName: string,
    private readonly lossSource?: LossSource,
    private readonly instanceId: string = agentInstanceId(),
    private readonly nowNs: () => number = () => Math.round(Date.now() * 1e6),
  ) {
    this.lastTimeNs = this.nowNs();
  }

  /** Builds the record for the interval since the previous call; `seq` is the last event.seq assigned so far. */
  async next(seq: number): Promise<LossRecord> {
    const now = await this.snapshot();
    const drops: LossDrop[] = [];
    let total = 0;
    for (const [k, v] of now) {
      const delta = v - (this.last.get(k) ?? 0);
      if (delta <= 0) continue;
      const [stage = '', reason = ''] = k.split(SEP);
      drops.push({ stage, reason, count: delta });
      total += delta;
    }
    drops.sort((a, b) =>
      a.stage === b.stage ? a.reason.localeCompare(b.reason) : a.stage.localeCompare(b.stage),
    );
    const t = this.nowNs();
    const record: LossRecord = {
      'record.type': 'loss',
      'podtrace.schema': KAFKA_JSON_SCHEMA_VERSION,
      'k8s.node.name': this.nodeName,
      'podtrace.instance.id': this.instanceId,
      'interval.start_unix_nano': this.lastTimeNs,
      time_unix_nano: t,
      'event.seq.first': seq > this.lastSeq ? this.lastSeq + 1 : null,
      'event.seq.last': seq > this.lastSeq ? seq : null,
      'dropped.total': total,
      drops,
    };
    this.last = now;
    this.lastSeq = seq;
    this.lastTimeNs = t;
    return record;
  }

  private async snapshot(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const dropped = await this.metrics.dropped.get();
    for (const v of dropped.values)
      out.set(`${String(v.labels.stage)}${SEP}${String(v.labels.reason)}`, v.value);
    if (this.lossSource !== undefined) {
      for (const [kind, n] of Object.entries(await this.lossSource()))
        out.set(`kernel${SEP}ringbuf_full:${kind}`, n);
    } else {
      const lost = await this.metrics.kernelLost.get();
      for (const v of lost.values) out.set(`kernel${SEP}ringbuf_full:${String(v.labels.kind)}`, v.value);
    }
    // Not produced on purpose by the kernel, still missing downstream: the rate limit and full tables.
    for (const v of (await this.metrics.rateLimited.get()).values)
      out.set(`kernel${SEP}rate_limited:${String(v.labels.kind)}`, v.value);
    for (const v of (await this.metrics.kernelUntracked.get()).values)
      out.set(`kernel${SEP}table_full:${String(v.labels.kind)}`, v.value);
    for (const v of (await this.metrics.kernelUnparsed.get()).values)
      out.set(`kernel${SEP}unparsed:${String(v.labels.kind)}`, v.value);
    return out;
  }
}

/** The loss record as JSON text (times are whole nanoseconds, written as JSON integers like the event records). */
export function encodeLossRecord(r: LossRecord): string {
  return JSON.stringify(r);
}
