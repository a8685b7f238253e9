import { ConfigError } from '../../core/errors';
import type { PodtraceEvent } from '../../events/event';

/**
 * Encodes a run of events (in pipeline order: the span mapping is stateful) as one OTLP
 * `ExportTraceServiceRequest`, the value of one `otlp_proto` record.
 */
export type OtlpRecordEncoder = (events: readonly PodtraceEvent[]) => Uint8Array;

/**
 * INTEGRATION POINT (otlp branch): the span mapping and the protobuf encoder live in
 * src/sinks/spans/ (`SpanMapper`, `eventsToResourceSpans`, `encodeExportTraceServiceRequest`),
 * written on the `otlp` branch. Until that branch is merged, `otlp_proto` is refused at start-up.
 */
export function createOtlpRecordEncoder(_nodeName: string, _redact?: readonly string[]): OtlpRecordEncoder {
  throw new ConfigError(
    'sinks.kafka.encodings: "otlp_proto" needs the span encoder from src/sinks/spans, which this build does not include yet',
  );
}
