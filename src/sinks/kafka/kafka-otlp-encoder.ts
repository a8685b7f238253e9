import { readBootId } from '../spans/boot-id';
import { hostname } from 'node:os';
import type { Logger } from '../../core/logger';
import type { PodtraceEvent } from '../../events/event';
import { encodeExportLogsServiceRequest } from '../spans/encode-logs-request';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import type { LogRecordData } from '../spans/log-model';
import { groupByResource, groupLogsByResource } from '../spans/resource-spans';
import type { SpanData } from '../spans/span-model';
import { SpanMapper } from '../spans/span-mapper';
import { SpanResources, parseResourceAttributes } from '../spans/span-resources';

/** One OTLP record value and the topic it goes to (`otlp_spans` or `otlp_logs` by default). */
export interface OtlpRecordValue {
  topic: string;
  value: Uint8Array;
}

/**
 * Encodes a run of events (in pipeline order: the mapping is stateful) in one mapping pass as OTLP
 * `ExportTraceServiceRequest`s (`otlp_proto`) and/or `ExportLogsServiceRequest`s (`otlp_logs`):
 * one record per signal, or more when one would be over `maxBytes` (the items are split in halves
 * until each fits; a single item over it stays one record, which the broker may refuse). No span
 * record when the events made no span (fork and exec fold into the process span emitted at exit).
 */
export type OtlpRecordEncoder = (events: readonly PodtraceEvent[], maxBytes: number) => OtlpRecordValue[];

export interface OtlpRecordEncoderOptions {
  nodeName: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** The `otlp_proto` topic, or null when spans are not wanted. */
  spansTopic: string | null;
  /** The `otlp_logs` topic, or null when log records are not wanted. */
  logsTopic: string | null;
  /** Default: /proc/sys/kernel/random/boot_id (span ids are deterministic per boot, as in the OTLP sink). */
  bootId?: string;
  hostName?: string;
  redact?: readonly string[];
  /** `podtrace.instance.id` on every resource. */
  instanceId?: string;
}

function splitToFit<T>(
  items: readonly T[],
  encode: (items: readonly T[]) => Uint8Array,
  maxBytes: number,
  topic: string,
  out: OtlpRecordValue[],
): void {
  const value = encode(items);
  if (value.byteLength <= maxBytes || items.length === 1) {
    out.push({ topic, value });
    return;
  }
  const half = Math.ceil(items.length / 2);
  splitToFit(items.slice(0, half), encode, maxBytes, topic, out);
  splitToFit(items.slice(half), encode, maxBytes, topic, out);
}

const encodeSpans = (spans: readonly SpanData[]): Uint8Array =>
  encodeExportTraceServiceRequest(groupByResource(spans));
const encodeLogs = (records: readonly LogRecordData[]): Uint8Array =>
  encodeExportLogsServiceRequest(groupLogsByResource(records));

/**
 * The same spans and log records as the OTLP sink (src/sinks/spans: SpanMapper, resources,
 * hand-written protobuf encoders), so a Collector's Kafka receiver (`otlp_proto` encoding on the
 * traces topic, the logs topic) sees what an OTLP receiver would. With both, the log records carry
 * the trace context of their process spans.
 */
export function createOtlpRecordEncoder(options: OtlpRecordEncoderOptions): OtlpRecordEncoder {
  const resourceEnv = parseResourceAttributes(options.env.OTEL_RESOURCE_ATTRIBUTES);
  const mapper = new SpanMapper({
    bootId: options.bootId ?? readBootId(options.logger),
    resources: new SpanResources({
      hostName: options.hostName ?? hostname(),
      nodeName: options.nodeName,
      extraAttributes: resourceEnv.attributes,
      instanceId: options.instanceId,
    }),
    redact: options.redact,
    logTraceContext: options.spansTopic !== null,
  });
  const { spansTopic, logsTopic } = options;
  return (events, maxBytes) => {
    const spans: SpanData[] | null = spansTopic !== null ? [] : null;
    const logs: LogRecordData[] | null = logsTopic !== null ? [] : null;
    mapper.map({ events: events as PodtraceEvent[] }, { spans, logs });
    const out: OtlpRecordValue[] = [];
    if (spans !== null && spans.length > 0) splitToFit(spans, encodeSpans, maxBytes, spansTopic!, out);
    if (logs !== null && logs.length > 0) splitToFit(logs, encodeLogs, maxBytes, logsTopic!, out);
    return out;
  };
}
