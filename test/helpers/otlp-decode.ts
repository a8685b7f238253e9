/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs hands out untyped decoded objects */
/**
 * Decoders of OTLP request bodies written from the .proto files in test/helpers/proto (official
 * field numbers): what a Collector's OTLP and Kafka receivers read. Used by the encoder, HTTP and
 * Kafka tests.
 */
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import type { DecodedValue } from './otlp-receiver';
import { attributeMap } from './otlp-receiver';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(__dirname, 'proto', target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto');

export const TraceRequest = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);
export const TraceResponse = root.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
);
export const LogsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
export const LogsResponse = root.lookupType(
  'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
);
/** google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3 } */
export const RpcStatus = protobuf.Root.fromJSON({
  nested: {
    Status: {
      fields: {
        code: { type: 'int32', id: 1 },
        message: { type: 'string', id: 2 },
      },
    },
  },
}).lookupType('Status');

const OPTIONS = { longs: String, bytes: Buffer, enums: String, defaults: true, oneofs: true } as const;

export function decodeTraceRequest(buf: Uint8Array): any {
  return TraceRequest.toObject(TraceRequest.decode(buf), OPTIONS);
}

export function decodeLogsRequest(buf: Uint8Array): any {
  return LogsRequest.toObject(LogsRequest.decode(buf), OPTIONS);
}

export interface ReceivedLogRecord {
  resource: Record<string, DecodedValue>;
  resourceSchemaUrl: string;
  scope: { name: string; version: string };
  scopeSchemaUrl: string;
  eventName: string;
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: string;
  severityText: string;
  /** null when the record has no body (podtrace's never do). */
  body: unknown;
  attributes: Record<string, DecodedValue>;
  flags: number;
  /** '' without trace context. */
  traceId: string;
  spanId: string;
}

const hex = (b: Buffer | undefined): string => (b ? b.toString('hex') : '');

/** Flattens a decoded ExportLogsServiceRequest into records with their resource and scope. */
export function flattenLogsRequest(body: any): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  for (const rl of body.resourceLogs as any[]) {
    const resource = attributeMap(rl.resource?.attributes);
    for (const sl of rl.scopeLogs as any[]) {
      const scope = { name: sl.scope?.name as string, version: sl.scope?.version as string };
      for (const r of sl.logRecords as any[]) {
        out.push({
          resource,
          resourceSchemaUrl: rl.schemaUrl,
          scope,
          scopeSchemaUrl: sl.schemaUrl,
          eventName: r.eventName,
          timeUnixNano: BigInt(r.timeUnixNano),
          observedTimeUnixNano: BigInt(r.observedTimeUnixNano),
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: r.body ?? null,
          attributes: attributeMap(r.attributes),
          flags: r.flags,
          traceId: hex(r.traceId),
          spanId: hex(r.spanId),
        });
      }
    }
  }
  return out;
}
