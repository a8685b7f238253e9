import type { ResourceGroup } from './encode-trace-request';
import { spanSlab, writeAttributes, writeResourceGroups } from './encode-trace-request';
import type { LogRecordData, ResourceLogs } from './log-model';
import type { EncodedLogRecord } from './span-model';
import { ProtobufWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protobuf-writer';

/*
 * Hand-written encoder of opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.
 * Field numbers from the official .proto files (collector/logs/v1/logs_service.proto,
 * logs/v1/logs.proto); Resource, InstrumentationScope and KeyValue are shared with the trace encoder.
 */

// LogRecord
const LR_TIME = 1;
const LR_SEVERITY_NUMBER = 2;
const LR_SEVERITY_TEXT = 3;
const LR_ATTRIBUTES = 6;
const LR_FLAGS = 8;
const LR_TRACE_ID = 9;
const LR_SPAN_ID = 10;
const LR_OBSERVED_TIME = 11;
const LR_EVENT_NAME = 12;

/** W3C trace flags in the low byte of LogRecord.flags: the linked span is sampled (podtrace exports all). */
const TRACE_FLAG_SAMPLED = 0x01;

function writeLogRecord(w: ProtobufWriter, r: LogRecordData): void {
  w.tag(LR_TIME, WIRE_FIXED64);
  w.fixed64(r.timeUnixNs);
  w.tag(LR_SEVERITY_NUMBER, WIRE_VARINT);
  w.uint32(r.severityNumber);
  w.tag(LR_SEVERITY_TEXT, WIRE_LEN);
  w.string(r.severityText);
  writeAttributes(w, LR_ATTRIBUTES, r.attributes);
  if (r.traceId !== null && r.spanId !== null) {
    w.tag(LR_FLAGS, WIRE_FIXED32);
    w.fixed32(TRACE_FLAG_SAMPLED);
    w.tag(LR_TRACE_ID, WIRE_LEN);
    w.bytes(r.traceId);
    w.tag(LR_SPAN_ID, WIRE_LEN);
    w.bytes(r.spanId);
  }
  w.tag(LR_OBSERVED_TIME, WIRE_FIXED64);
  w.fixed64(r.observedTimeUnixNs);
  w.tag(LR_EVENT_NAME, WIRE_LEN);
  w.string(r.eventName);
}

const sharedWriter = new ProtobufWriter(1024 * 1024);
const recordWriter = new ProtobufWriter(16 * 1024);

/** The log record as the OTLP sink queues it: its resource and its `LogRecord` message (from a shared slab). */
export function toEncodedLogRecord(r: LogRecordData): EncodedLogRecord {
  const w = recordWriter;
  w.reset();
  writeLogRecord(w, r);
  return { resource: r.resource, bytes: w.copyTail(0, spanSlab) };
}

/**
 * Encodes an `ExportLogsServiceRequest` (the OTLP logs request body over gRPC and HTTP, also the
 * Kafka `otlp_logs` record value). Returns a Buffer the caller owns.
 */
export function encodeExportLogsServiceRequest(resourceLogs: readonly ResourceLogs[]): Buffer {
  const w = sharedWriter;
  w.reset();
  const groups = new Array<ResourceGroup<LogRecordData>>(resourceLogs.length);
  for (let i = 0; i < resourceLogs.length; i++) {
    const rl = resourceLogs[i]!;
    groups[i] = { resource: rl.resource, scope: rl.scope, items: rl.records };
  }
  writeResourceGroups(w, groups, writeLogRecord);
  return w.finish();
}
