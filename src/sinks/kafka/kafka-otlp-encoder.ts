import type { EventBatch } from '../../events/event';
import type { BatchMapping } from '../spans/batch-mapping';
import { encodeExportLogsServiceRequest } from '../spans/encode-logs-request';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import type { LogRecordData } from '../spans/log-model';
import { groupByResource, groupLogsByResource } from '../spans/resource-spans';
import type { SpanData } from '../spans/span-model';

/** One OTLP record value, the topic it goes to (`otlp_spans` or `otlp_logs` by default), and the events it stands for. */
export interface OtlpRecordValue {
  topic: string;
  value: Buffer;
  /** The run of events it came from, on the first record of the run (0 on the others). */
  events: number;
}

/**
 * Encodes a batch (in pipeline order: the mapping is stateful) as OTLP `ExportTraceServiceRequest`s
 * (`otlp_proto`) and/or `ExportLogsServiceRequest`s (`otlp_logs`) per run of `perRecord` events:
 * one record per signal and run, or more when one would be over `maxBytes` (the items are split in
 * halves until each fits; a single item over it stays one record, which the broker may refuse). No
 * span record for a run that made no span (fork and exec fold into the process span emitted at exit).
 */
export type OtlpRecordEncoder = (batch: EventBatch, perRecord: number, maxBytes: number) => OtlpRecordValue[];

export interface OtlpRecordEncoderOptions {
  /** The events → OTLP mapping (shared with the OTLP sink when both are on). */
  mapping: BatchMapping;
  /** The `otlp_proto` topic, or null when spans are not wanted. */
  spansTopic: string | null;
  /** The `otlp_logs` topic, or null when log records are not wanted. */
  logsTopic: string | null;
  /**
   * The OTLP sink exports the same spans (a shared mapping): keep each span's encoded bytes on it
   * so the OTLP sink copies them instead of encoding the span again.
   */
  shareSpanBytes?: boolean;
}

function splitToFit<T>(
  items: readonly T[],
  encode: (items: readonly T[]) => Buffer,
  maxBytes: number,
  topic: string,
  events: number,
  out: OtlpRecordValue[],
): void {
  const value = encode(items);
  if (value.byteLength <= maxBytes || items.length === 1) {
    out.push({ topic, value, events });
    return;
  }
  const half = Math.ceil(items.length / 2);
  splitToFit(items.slice(0, half), encode, maxBytes, topic, events, out);
  splitToFit(items.slice(half), encode, maxBytes, topic, 0, out);
}

const encodeSpans = (spans: readonly SpanData[]): Buffer =>
  encodeExportTraceServiceRequest(groupByResource(spans));
const encodeSpansKeepingBytes = (spans: readonly SpanData[]): Buffer =>
  encodeExportTraceServiceRequest(groupByResource(spans), { keepSpanBytes: true });
const encodeLogs = (records: readonly LogRecordData[]): Buffer =>
  encodeExportLogsServiceRequest(groupLogsByResource(records));

/**
 * The same spans and log records as the OTLP sink (src/sinks/spans: one BatchMapping, resources,
 * hand-written protobuf encoders), so a Collector's Kafka receiver (`otlp_proto` encoding on the
 * traces topic, the logs topic) sees what an OTLP receiver would. With both, the log records carry
 * the trace context of their process spans.
 */
export function createOtlpRecordEncoder(options: OtlpRecordEncoderOptions): OtlpRecordEncoder {
  const { mapping, spansTopic, logsTopic } = options;
  const spans = options.shareSpanBytes === true ? encodeSpansKeepingBytes : encodeSpans;
  if ((spansTopic !== null && !mapping.wants.spans) || (logsTopic !== null && !mapping.wants.logs))
    throw new Error('Kafka OTLP encoder: the mapping does not make the signals the encodings need');
  return (batch, perRecord, maxBytes) => {
    const out: OtlpRecordValue[] = [];
    const n = batch.events.length;
    if (n === 0) return out;
    const m = mapping.map(batch);
    for (let i = 0; i < n; i += perRecord) {
      const last = Math.min(i + perRecord, n) - 1;
      let events = last - i + 1;
      if (spansTopic !== null) {
        const from = i === 0 ? 0 : m.spanEnds[i - 1]!;
        const to = m.spanEnds[last]!;
        if (to > from) {
          splitToFit(m.spans.slice(from, to), spans, maxBytes, spansTopic, events, out);
          events = 0;
        }
      }
      if (logsTopic !== null) {
        const from = i === 0 ? 0 : m.logEnds[i - 1]!;
        const to = m.logEnds[last]!;
        if (to > from) splitToFit(m.logs.slice(from, to), encodeLogs, maxBytes, logsTopic, events, out);
      }
    }
    return out;
  };
}
