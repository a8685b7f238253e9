import type { AttributeValue, Attributes } from '../../events/event-attributes';
import { ProtobufWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer';
import { SEMCONV_SCHEMA_URL } from './semconv-schema';
import type { InstrumentationScope, ResourceSpans, SpanData, SpanResource } from './span-model';
import { StatusCode } from './span-model';

/*
 * Hand-written encoder of opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.
 * Field numbers from the official .proto files (collector/trace/v1/trace_service.proto,
 * trace/v1/trace.proto, resource/v1/resource.proto, common/v1/common.proto).
 */

// ExportTraceServiceRequest
const REQUEST_RESOURCE_SPANS = 1;
// ResourceSpans.schema_url and ScopeSpans.schema_url (the same number in ResourceLogs and ScopeLogs)
const SCHEMA_URL = 3;
// ResourceSpans
const RS_RESOURCE = 1;
const RS_SCOPE_SPANS = 2;
// Resource
const RESOURCE_ATTRIBUTES = 1;
// ScopeSpans
const SS_SCOPE = 1;
const SS_SPANS = 2;
// InstrumentationScope
const SCOPE_NAME = 1;
const SCOPE_VERSION = 2;
// Span
const SPAN_TRACE_ID = 1;
const SPAN_SPAN_ID = 2;
const SPAN_PARENT_SPAN_ID = 4;
const SPAN_NAME = 5;
const SPAN_KIND = 6;
const SPAN_START = 7;
const SPAN_END = 8;
const SPAN_ATTRIBUTES = 9;
const SPAN_EVENTS = 11;
const SPAN_LINKS = 13;
const SPAN_STATUS = 15;
// Span.Event
const EVENT_TIME = 1;
const EVENT_NAME = 2;
const EVENT_ATTRIBUTES = 3;
// Span.Link
const LINK_TRACE_ID = 1;
const LINK_SPAN_ID = 2;
const LINK_ATTRIBUTES = 4;
// Status
const STATUS_MESSAGE = 2;
const STATUS_CODE = 3;
// KeyValue
const KV_KEY = 1;
const KV_VALUE = 2;
// AnyValue
const ANY_STRING = 1;
const ANY_BOOL = 2;
const ANY_INT = 3;
const ANY_DOUBLE = 4;
const ANY_ARRAY = 5;
// ArrayValue
const ARRAY_VALUES = 1;

const tagByte = (field: number, wire: number): number => (field << 3) | wire;

/**
 * `schema_url` (field 3 of ResourceSpans/ScopeSpans and of ResourceLogs/ScopeLogs), tag included:
 * the semantic-conventions version podtrace's attribute names follow.
 */
export const ENCODED_SCHEMA_URL: Buffer = (() => {
  const w = new ProtobufWriter(128);
  w.tag(SCHEMA_URL, WIRE_LEN);
  w.string(SEMCONV_SCHEMA_URL);
  return w.finish();
})();

/** Encoded `KeyValue.key` fields (tag + length + bytes), per attribute name. Names are a small fixed set. */
const keyCache = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 4096;

function encodedKey(key: string): Buffer {
  let hit = keyCache.get(key);
  if (hit === undefined) {
    const w = new ProtobufWriter(key.length * 3 + 8);
    w.tag(KV_KEY, WIRE_LEN);
    w.string(key);
    hit = w.finish();
    if (keyCache.size < MAX_CACHED_KEYS) keyCache.set(key, hit);
  }
  return hit;
}

function writeAnyValue(w: ProtobufWriter, v: AttributeValue): void {
  if (typeof v === 'string') {
    w.tag(ANY_STRING, WIRE_LEN);
    w.string(v);
  } else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) {
      w.tag(ANY_INT, WIRE_VARINT);
      w.int64(v);
    } else {
      w.tag(ANY_DOUBLE, WIRE_FIXED64);
      w.double(v);
    }
  } else if (typeof v === 'boolean') {
    w.tag(ANY_BOOL, WIRE_VARINT);
    w.bool(v);
  } else {
    w.tag(ANY_ARRAY, WIRE_LEN);
    const arr = w.fork();
    for (const item of v) {
      w.tag(ARRAY_VALUES, WIRE_LEN);
      const at = w.fork();
      w.tag(ANY_STRING, WIRE_LEN);
      w.string(item);
      w.join(at);
    }
    w.join(arr);
  }
}

export function writeAttributes(w: ProtobufWriter, field: number, attrs: Readonly<Attributes>): void {
  const tag = tagByte(field, WIRE_LEN);
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    w.uint32(tag);
    const kv = w.fork();
    w.raw(encodedKey(key));
    w.tag(KV_VALUE, WIRE_LEN);
    const any = w.fork();
    writeAnyValue(w, v);
    w.join(any);
    w.join(kv);
  }
}

export function encodedResource(resource: SpanResource): Uint8Array {
  if (resource.encoded === undefined) {
    const w = new ProtobufWriter(1024);
    writeAttributes(w, RESOURCE_ATTRIBUTES, resource.attributes);
    resource.encoded = w.finish();
  }
  return resource.encoded;
}

const scopeCache = new WeakMap<InstrumentationScope, Buffer>();

export function encodedScope(scope: InstrumentationScope): Buffer {
  let hit = scopeCache.get(scope);
  if (hit === undefined) {
    const w = new ProtobufWriter(256);
    w.tag(SCOPE_NAME, WIRE_LEN);
    w.string(scope.name);
    w.tag(SCOPE_VERSION, WIRE_LEN);
    w.string(scope.version);
    hit = w.finish();
    scopeCache.set(scope, hit);
  }
  return hit;
}

function writeSpan(w: ProtobufWriter, s: SpanData): void {
  w.tag(SPAN_TRACE_ID, WIRE_LEN);
  w.bytes(s.traceId);
  w.tag(SPAN_SPAN_ID, WIRE_LEN);
  w.bytes(s.spanId);
  if (s.parentSpanId !== null) {
    w.tag(SPAN_PARENT_SPAN_ID, WIRE_LEN);
    w.bytes(s.parentSpanId);
  }
  w.tag(SPAN_NAME, WIRE_LEN);
  w.string(s.name);
  w.tag(SPAN_KIND, WIRE_VARINT);
  w.uint32(s.kind);
  w.tag(SPAN_START, WIRE_FIXED64);
  w.fixed64Difference(s.endTimeUnixNs, s.durationNs);
  w.tag(SPAN_END, WIRE_FIXED64);
  w.fixed64(s.endTimeUnixNs);
  writeAttributes(w, SPAN_ATTRIBUTES, s.attributes);
  if (s.events !== null) {
    for (const e of s.events) {
      w.tag(SPAN_EVENTS, WIRE_LEN);
      const at = w.fork();
      w.tag(EVENT_TIME, WIRE_FIXED64);
      w.fixed64(e.timeUnixNs);
      w.tag(EVENT_NAME, WIRE_LEN);
      w.string(e.name);
      if (e.attributes !== null) writeAttributes(w, EVENT_ATTRIBUTES, e.attributes);
      w.join(at);
    }
  }
  if (s.links !== null) {
    for (const l of s.links) {
      w.tag(SPAN_LINKS, WIRE_LEN);
      const at = w.fork();
      w.tag(LINK_TRACE_ID, WIRE_LEN);
      w.bytes(l.traceId);
      w.tag(LINK_SPAN_ID, WIRE_LEN);
      w.bytes(l.spanId);
      if (l.attributes !== null) writeAttributes(w, LINK_ATTRIBUTES, l.attributes);
      w.join(at);
    }
  }
  if (s.statusCode !== StatusCode.Unset) {
    w.tag(SPAN_STATUS, WIRE_LEN);
    const at = w.fork();
    if (s.statusMessage !== null) {
      w.tag(STATUS_MESSAGE, WIRE_LEN);
      w.string(s.statusMessage);
    }
    w.tag(STATUS_CODE, WIRE_VARINT);
    w.uint32(s.statusCode);
    w.join(at);
  }
}

const sharedWriter = new ProtobufWriter(1024 * 1024);

/**
 * Encodes an `ExportTraceServiceRequest` (the gRPC/HTTP OTLP request body, also the Kafka
 * `otlp_proto` record value). Returns a Buffer the caller owns.
 */
export function encodeExportTraceServiceRequest(resourceSpans: readonly ResourceSpans[]): Buffer {
  const w = sharedWriter;
  w.reset();
  for (const rs of resourceSpans) {
    w.tag(REQUEST_RESOURCE_SPANS, WIRE_LEN);
    const rsAt = w.fork();
    w.tag(RS_RESOURCE, WIRE_LEN);
    w.bytes(encodedResource(rs.resource));
    w.tag(RS_SCOPE_SPANS, WIRE_LEN);
    const ssAt = w.fork();
    w.tag(SS_SCOPE, WIRE_LEN);
    w.bytes(encodedScope(rs.scope));
    for (const span of rs.spans) {
      w.tag(SS_SPANS, WIRE_LEN);
      const at = w.fork();
      writeSpan(w, span);
      w.join(at);
    }
    w.raw(ENCODED_SCHEMA_URL);
    w.join(ssAt);
    w.raw(ENCODED_SCHEMA_URL);
    w.join(rsAt);
  }
  return w.finish();
}
