import { readBootId } from '../spans/boot-id';
import { hostname } from 'node:os';
import type { Logger } from '../../core/logger';
import type { PodtraceEvent } from '../../events/event';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import { groupByResource } from '../spans/resource-spans';
import type { SpanData } from '../spans/span-model';
import { SpanMapper } from '../spans/span-mapper';
import { SpanResources, parseResourceAttributes } from '../spans/span-resources';

/**
 * Encodes a run of events (in pipeline order: the span mapping is stateful) as OTLP
 * `ExportTraceServiceRequest`s, the values of `otlp_proto` records: one, or more when one would be
 * over `maxBytes` (the spans are split in halves until each fits; a single span over it stays one
 * record, which the broker may refuse). Empty when the events made no span (fork and exec fold
 * into the process span emitted at exit).
 */
export type OtlpRecordEncoder = (events: readonly PodtraceEvent[], maxBytes: number) => Uint8Array[];

export interface OtlpRecordEncoderOptions {
  nodeName: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Default: /proc/sys/kernel/random/boot_id (span ids are deterministic per boot, as in the OTLP sink). */
  bootId?: string;
  hostName?: string;
  redact?: readonly string[];
  /** `podtrace.instance.id` on every resource. */
  instanceId?: string;
}

/**
 * The same spans as the OTLP sink (src/sinks/spans: SpanMapper, resources, hand-written protobuf
 * encoder), so a Collector's Kafka receiver (`otlp_proto` encoding) sees what an OTLP/gRPC receiver would.
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
  });
  const encode = (spans: readonly SpanData[], maxBytes: number, out: Uint8Array[]): void => {
    const bytes = encodeExportTraceServiceRequest(groupByResource(spans));
    if (bytes.byteLength <= maxBytes || spans.length === 1) {
      out.push(bytes);
      return;
    }
    const half = Math.ceil(spans.length / 2);
    encode(spans.slice(0, half), maxBytes, out);
    encode(spans.slice(half), maxBytes, out);
  };
  return (events, maxBytes) => {
    const spans = mapper.mapBatch({ events: events as PodtraceEvent[] });
    const out: Uint8Array[] = [];
    if (spans.length > 0) encode(spans, maxBytes, out);
    return out;
  };
}
