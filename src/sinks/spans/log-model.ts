import type { Attributes } from '../../events/event-attributes';
import type { InstrumentationScope, SpanResource } from './span-model';

/** OTLP `SeverityNumber` values podtrace uses (opentelemetry.proto.logs.v1). */
export enum SeverityNumber {
  Info = 9,
  Warn = 13,
}

/**
 * One kernel event as an OpenTelemetry event: a LogRecord with a top-level `event_name`, the event's
 * attributes and no body. Shares its resource (and usually its attributes object) with the span the
 * same mapping pass made, so emitting both signals costs one small object per event.
 */
export interface LogRecordData {
  readonly resource: SpanResource;
  /** `podtrace.<event>`, e.g. `podtrace.process.exec`. */
  readonly eventName: string;
  /** Wall-clock Unix ns of the kernel timestamp. */
  readonly timeUnixNs: number;
  /** Unix ns when podtrace mapped the batch the event came in. */
  readonly observedTimeUnixNs: number;
  readonly severityNumber: SeverityNumber;
  readonly severityText: string;
  readonly attributes: Readonly<Attributes>;
  /** The process span's trace (16 bytes), or null without trace context. */
  readonly traceId: Uint8Array | null;
  /** The process span (8 bytes), or null without trace context. */
  readonly spanId: Uint8Array | null;
}

/** Log records grouped under their resource, the shape of one `ResourceLogs` message. */
export interface ResourceLogs {
  readonly resource: SpanResource;
  readonly scope: InstrumentationScope;
  readonly records: readonly LogRecordData[];
}
