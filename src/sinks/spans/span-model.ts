import type { Attributes } from '../../events/event-attributes';

/** OTLP `Span.SpanKind` numbers (opentelemetry.proto.trace.v1). */
export enum SpanKind {
  Unspecified = 0,
  Internal = 1,
  Server = 2,
  Client = 3,
  Producer = 4,
  Consumer = 5,
}

/** OTLP `Status.StatusCode` numbers. */
export enum StatusCode {
  Unset = 0,
  Ok = 1,
  Error = 2,
}

/**
 * The resource a span belongs to: one per container (shared by all its spans), one per host
 * executable. `key` identifies it within an export request; the encoder caches the encoded
 * `Resource` message on the object, so keep resources long-lived and never mutate `attributes`.
 */
export interface SpanResource {
  readonly key: string;
  readonly attributes: Readonly<Attributes>;
  /** Set by the encoder: the encoded `Resource` message, reused for every request. */
  encoded?: Uint8Array;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version: string;
}

export interface SpanLink {
  /** 16 bytes. */
  readonly traceId: Uint8Array;
  /** 8 bytes. */
  readonly spanId: Uint8Array;
  readonly attributes: Readonly<Attributes> | null;
}

export interface SpanEvent {
  readonly name: string;
  readonly timeUnixNs: number;
  readonly attributes: Readonly<Attributes> | null;
}

/**
 * One span ready to encode. The end is a wall-clock Unix ns double (as events carry it, exact to a
 * few hundred ns); the duration is an exact kernel-timestamp difference. The start is written as
 * end − duration in 64-bit integer arithmetic, so durations survive exactly on the wire.
 */
export interface SpanData {
  readonly resource: SpanResource;
  /** 16 bytes. */
  readonly traceId: Uint8Array;
  /** 8 bytes. */
  readonly spanId: Uint8Array;
  /** 8 bytes, or null for a trace root. */
  readonly parentSpanId: Uint8Array | null;
  readonly name: string;
  readonly kind: SpanKind;
  readonly endTimeUnixNs: number;
  /** ns, >= 0; 0 for instant events. */
  readonly durationNs: number;
  readonly attributes: Readonly<Attributes>;
  readonly events: readonly SpanEvent[] | null;
  readonly links: readonly SpanLink[] | null;
  readonly statusCode: StatusCode;
  readonly statusMessage: string | null;
  /**
   * Set by the encoder when the span is encoded for more than one request (the OTLP sink and
   * Kafka `otlp_proto` sharing a mapping): the encoded `Span` message body, which the next
   * request copies instead of encoding the span again. Never set by hand; never serialized.
   */
  encoded?: Uint8Array;
}

/**
 * A span or log record as the OTLP sink queues it: its resource and its encoded `Span` or
 * `LogRecord` message, written when the sink accepts the event. Queued items wait up to
 * `batch.maxDelayMs`, long enough for V8 to move whatever they hold to the old generation; a
 * SpanData (attributes object, id arrays, strings) there costs a full collection to free, these
 * bytes live outside the heap.
 */
export interface EncodedItem {
  readonly resource: SpanResource;
  readonly bytes: Uint8Array;
}

/** A span queued encoded (EncodedItem holding a `Span` message). */
export type EncodedSpan = EncodedItem;
/** A log record queued encoded (EncodedItem holding a `LogRecord` message). */
export type EncodedLogRecord = EncodedItem;

/** The span's start as a Unix ns double (rounded like every double of that size). */
export function spanStartUnixNs(span: SpanData): number {
  return span.endTimeUnixNs - span.durationNs;
}

/** Spans grouped under their resource, the shape of one `ResourceSpans` message. */
export interface ResourceSpans {
  readonly resource: SpanResource;
  readonly scope: InstrumentationScope;
  readonly spans: readonly SpanData[];
}
