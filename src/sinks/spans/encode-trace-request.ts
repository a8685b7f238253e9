import type { AttributeValue, Attributes } from '../../events/event-attributes';
import { ByteSlab } from '../exporter/byte-slab';
import { ProtobufWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer';
import { SEMCONV_SCHEMA_URL } from './semconv-schema';
import { PODTRACE_SCOPE } from './instrumentation-scope';
import { groupItemsByResource } from './resource-spans';
import type {
  EncodedItem,
  EncodedSpan,
  InstrumentationScope,
  ResourceSpans,
  SpanData,
  SpanResource,
} from './span-model';
import { StatusCode } from './span-model';

/*
 * Hand-written encoder of opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.
 * Field numbers from the official .proto files (collector/trace/v1/trace_service.proto,
 * trace/v1/trace.proto, resource/v1/resource.proto, common/v1/common.proto).
 */

// ResourceSpans.schema_url and ScopeSpans.schema_url (the same number in ResourceLogs and ScopeLogs)
const SCHEMA_URL = 3;
// Resource
const RESOURCE_ATTRIBUTES = 1;
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

/*
 * The resource → scope → items nesting that ExportTraceServiceRequest and ExportLogsServiceRequest
 * share: field 1 of the request is ResourceSpans/ResourceLogs { resource = 1; scope_spans/scope_logs
 * = 2; schema_url = 3 }, which holds ScopeSpans/ScopeLogs { scope = 1; spans/log_records = 2;
 * schema_url = 3 } (collector/*\/v1 and trace|logs/v1 .proto files).
 */
const REQUEST_RESOURCE_GROUPS = 1;
const GROUP_RESOURCE = 1;
const GROUP_SCOPE_ITEMS = 2;
const SCOPE_SCOPE = 1;
const SCOPE_ITEMS = 2;

/** One resource's items under one scope (ResourceSpans or ResourceLogs). */
export interface ResourceGroup<T> {
  readonly resource: SpanResource;
  readonly scope: InstrumentationScope;
  readonly items: readonly T[];
}

/**
 * Writes every group as field 1 of the request: the resource and scope (encoded once per object
 * and cached), each item through `writeItem` as a nested message, and the schema URL at both levels.
 */
export function writeResourceGroups<T>(
  w: ProtobufWriter,
  groups: readonly ResourceGroup<T>[],
  writeItem: (w: ProtobufWriter, item: T) => void,
  /** `writeItem` writes the item's length and bytes itself (items encoded before). */
  framed = false,
): void {
  for (const g of groups) {
    w.tag(REQUEST_RESOURCE_GROUPS, WIRE_LEN);
    const groupAt = w.fork();
    w.tag(GROUP_RESOURCE, WIRE_LEN);
    w.bytes(encodedResource(g.resource));
    w.tag(GROUP_SCOPE_ITEMS, WIRE_LEN);
    const scopeAt = w.fork();
    w.tag(SCOPE_SCOPE, WIRE_LEN);
    w.bytes(encodedScope(g.scope));
    const items = g.items;
    for (let i = 0; i < items.length; i++) {
      w.tag(SCOPE_ITEMS, WIRE_LEN);
      if (framed) {
        writeItem(w, items[i]!);
        continue;
      }
      const at = w.fork();
      writeItem(w, items[i]!);
      w.join(at);
    }
    w.raw(ENCODED_SCHEMA_URL);
    w.join(scopeAt);
    w.raw(ENCODED_SCHEMA_URL);
    w.join(groupAt);
  }
}

const sharedWriter = new ProtobufWriter(1024 * 1024);
/** Where encoded spans and log records are carved out (encodeSpanBytes, toEncodedLogRecord). */
export const spanSlab = new ByteSlab(256 * 1024);

/** A span encoded before (`span.encoded`) is copied as it is. */
function writeSpanOrCopy(w: ProtobufWriter, s: SpanData): void {
  if (s.encoded !== undefined) w.raw(s.encoded);
  else writeSpan(w, s);
}

/** Encodes the span and keeps its bytes on it for the next request that carries it. */
function writeAndKeepSpan(w: ProtobufWriter, s: SpanData): void {
  if (s.encoded !== undefined) {
    w.raw(s.encoded);
    return;
  }
  const from = w.length;
  writeSpan(w, s);
  s.encoded = w.copyTail(from, spanSlab);
}

const spanWriter = new ProtobufWriter(64 * 1024);

/**
 * The span's `Span` message: encoded once, carved out of a shared slab and kept on the span
 * (`SpanData.encoded`), so every request that carries the span copies these bytes.
 */
export function encodeSpanBytes(s: SpanData): Uint8Array {
  if (s.encoded !== undefined) return s.encoded;
  const w = spanWriter;
  w.reset();
  writeSpan(w, s);
  s.encoded = w.copyTail(0, spanSlab);
  return s.encoded;
}

const writeEncodedItem = (w: ProtobufWriter, item: EncodedItem): void => w.bytes(item.bytes);

/** The span as the OTLP sink queues it (its resource and its encoded message). */
export function toEncodedSpan(s: SpanData): EncodedSpan {
  return { resource: s.resource, bytes: encodeSpanBytes(s) };
}

/**
 * An `ExportTraceServiceRequest` of spans, or an `ExportLogsServiceRequest` of log records, encoded
 * before (EncodedItem), grouped by resource under `scope`: the two requests nest the same way with
 * the same field numbers, and each item's bytes are copied behind their length, nothing is encoded
 * again.
 */
export function encodeEncodedItemsRequest(
  items: readonly EncodedItem[],
  scope: InstrumentationScope = PODTRACE_SCOPE,
): Buffer {
  const w = sharedWriter;
  w.reset();
  writeResourceGroups(w, groupItemsByResource(items, scope), writeEncodedItem, true);
  return w.finish();
}

export interface EncodeTraceOptions {
  /**
   * Keep each span's encoded bytes on the span (`SpanData.encoded`) for another request that
   * carries the same spans: Kafka `otlp_proto` sets it when it shares the mapping with the OTLP
   * sink, which then copies the bytes instead of encoding every span a second time.
   */
  keepSpanBytes?: boolean;
}

/**
 * Encodes an `ExportTraceServiceRequest` (the gRPC/HTTP OTLP request body, also the Kafka
 * `otlp_proto` record value). Returns a Buffer the caller owns.
 */
export function encodeExportTraceServiceRequest(
  resourceSpans: readonly ResourceSpans[],
  options: EncodeTraceOptions = {},
): Buffer {
  const w = sharedWriter;
  w.reset();
  const groups = new Array<ResourceGroup<SpanData>>(resourceSpans.length);
  for (let i = 0; i < resourceSpans.length; i++) {
    const rs = resourceSpans[i]!;
    groups[i] = { resource: rs.resource, scope: rs.scope, items: rs.spans };
  }
  writeResourceGroups(w, groups, options.keepSpanBytes === true ? writeAndKeepSpan : writeSpanOrCopy);
  return w.finish();
}
