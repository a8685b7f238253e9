/* eslint-disable @typescript-eslint/no-explicit-any -- proto-loader hands out untyped decoded objects */
/**
 * A real OTLP/gRPC trace receiver for tests: a grpc-js server for
 * opentelemetry.proto.collector.trace.v1.TraceService/Export that decodes every request with
 * @grpc/proto-loader from the .proto files in test/helpers/proto (written from the official
 * package). It can fail calls on demand (status code, optional RetryInfo) and answer with
 * partial success. Listens on 127.0.0.1 with an ephemeral port.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ProtobufWriter, WIRE_LEN, WIRE_VARINT } from '../../src/sinks/spans/protobuf-writer';
import type { ReceivedLogRecord } from './otlp-decode';
import { flattenLogsRequest } from './otlp-decode';

const PROTO_ROOT = join(__dirname, 'proto');
const SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';
const LOGS_SERVICE_PROTO = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';

export type DecodedValue = string | number | boolean | DecodedValue[] | null;

export interface ReceivedSpan {
  resource: Record<string, DecodedValue>;
  scope: { name: string; version: string };
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: string;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, DecodedValue>;
  events: { name: string; timeUnixNano: bigint; attributes: Record<string, DecodedValue> }[];
  links: { traceId: string; spanId: string }[];
  status: { code: string; message: string };
}

export interface ReceivedRequest {
  /** The decoded ExportTraceServiceRequest (proto-loader object: camelCase fields, longs as strings, bytes as Buffers). */
  body: any;
  metadata: Record<string, string>;
}

interface Failure {
  code: grpc.status;
  retryDelayMs?: number;
}

export interface ReceiverTls {
  key: Buffer;
  cert: Buffer;
  /** CA for client certificates; with it, client certificates are required. */
  clientCa?: Buffer;
}

function loadService(): grpc.ServiceDefinition {
  return loadPackage(SERVICE_PROTO).opentelemetry.proto.collector.trace.v1.TraceService
    .service as grpc.ServiceDefinition;
}

function loadLogsService(): grpc.ServiceDefinition {
  return loadPackage(LOGS_SERVICE_PROTO).opentelemetry.proto.collector.logs.v1.LogsService
    .service as grpc.ServiceDefinition;
}

function loadPackage(file: string): any {
  const def = protoLoader.loadSync(file, {
    includeDirs: [PROTO_ROOT],
    keepCase: false,
    longs: String,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def) as any;
}

function anyValue(v: any): DecodedValue {
  if (v === null || v === undefined) return null;
  switch (v.value) {
    case 'stringValue':
      return v.stringValue as string;
    case 'boolValue':
      return v.boolValue as boolean;
    case 'intValue':
      return Number(v.intValue);
    case 'doubleValue':
      return v.doubleValue as number;
    case 'arrayValue':
      return (v.arrayValue.values as any[]).map(anyValue);
    default:
      return null;
  }
}

export function attributeMap(kvs: any[] | undefined): Record<string, DecodedValue> {
  const out: Record<string, DecodedValue> = {};
  for (const kv of kvs ?? []) out[kv.key as string] = anyValue(kv.value);
  return out;
}

const hex = (b: Buffer | undefined): string => (b ? b.toString('hex') : '');

/** Flattens a decoded ExportTraceServiceRequest into spans with their resource and scope. */
export function flattenRequest(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans as any[]) {
    const resource = attributeMap(rs.resource?.attributes);
    for (const ss of rs.scopeSpans as any[]) {
      const scope = { name: ss.scope?.name as string, version: ss.scope?.version as string };
      for (const s of ss.spans as any[]) {
        out.push({
          resource,
          scope,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: BigInt(s.startTimeUnixNano),
          endTimeUnixNano: BigInt(s.endTimeUnixNano),
          attributes: attributeMap(s.attributes),
          events: (s.events as any[]).map((e) => ({
            name: e.name,
            timeUnixNano: BigInt(e.timeUnixNano),
            attributes: attributeMap(e.attributes),
          })),
          links: (s.links as any[]).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          status: { code: s.status?.code ?? 'STATUS_CODE_UNSET', message: s.status?.message ?? '' },
        });
      }
    }
  }
  return out;
}

/** grpc-status-details-bin: google.rpc.Status { code = 1; message = 2; details = 3 (Any) } with a RetryInfo. */
function retryInfoDetails(code: number, delayMs: number): Buffer {
  const duration = new ProtobufWriter(32);
  duration.tag(1, WIRE_VARINT);
  duration.int64(Math.floor(delayMs / 1000));
  duration.tag(2, WIRE_VARINT);
  duration.uint32((delayMs % 1000) * 1e6);
  const retryInfo = new ProtobufWriter(32);
  retryInfo.tag(1, WIRE_LEN);
  retryInfo.bytes(duration.finish());
  const any = new ProtobufWriter(128);
  any.tag(1, WIRE_LEN);
  any.string('type.googleapis.com/google.rpc.RetryInfo');
  any.tag(2, WIRE_LEN);
  any.bytes(retryInfo.finish());
  const statusMsg = new ProtobufWriter(256);
  statusMsg.tag(1, WIRE_VARINT);
  statusMsg.uint32(code);
  statusMsg.tag(2, WIRE_LEN);
  statusMsg.string('slow down');
  statusMsg.tag(3, WIRE_LEN);
  statusMsg.bytes(any.finish());
  return statusMsg.finish();
}

export class OtlpReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly spans: ReceivedSpan[] = [];
  /** Calls answered, including failed ones. */
  calls = 0;
  private server: grpc.Server | null = null;
  private boundPort = 0;
  private failures: Failure[] = [];
  private partial: { rejected: number; message: string }[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private readonly service = loadService();
  private readonly logsService = loadLogsService();
  /** Log records that arrived through LogsService/Export (which shares failNext and partialSuccessNext). */
  readonly logs: ReceivedLogRecord[] = [];

  /** Times of every call (ms, Date.now()), failed ones included. */
  readonly callTimes: number[] = [];

  /** `maxReceiveBytes`: the server's receive limit (as the Collector's `max_recv_msg_size_mib`; grpc-js answers RESOURCE_EXHAUSTED past it). */
  constructor(
    private readonly tls?: ReceiverTls,
    private readonly options: { maxReceiveBytes?: number } = {},
  ) {}

  get port(): number {
    return this.boundPort;
  }

  /** `127.0.0.1:<port>` */
  get address(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  /** Starts listening (on `port`, e.g. the previous one after stop(), or an ephemeral port). */
  async start(port = this.boundPort): Promise<void> {
    const server = new grpc.Server(
      this.options.maxReceiveBytes === undefined
        ? {}
        : { 'grpc.max_receive_message_length': this.options.maxReceiveBytes },
    );
    server.addService(this.service, { Export: (call: any, callback: any) => this.onExport(call, callback) });
    server.addService(this.logsService, {
      Export: (call: any, callback: any) => this.onExport(call, callback, 'logs'),
    });
    const creds = this.tls
      ? grpc.ServerCredentials.createSsl(
          this.tls.clientCa ?? null,
          [{ private_key: this.tls.key, cert_chain: this.tls.cert }],
          this.tls.clientCa !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  /** Stops at once, cutting open connections (a receiver that went down). */
  stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    server.forceShutdown();
    return Promise.resolve();
  }

  /** The next `n` calls fail with `code` (and a RetryInfo delay when given). */
  failNext(n: number, code: grpc.status, retryDelayMs?: number): void {
    for (let i = 0; i < n; i++) this.failures.push({ code, retryDelayMs });
  }

  /** The next call succeeds with partial success: `rejected` spans rejected. */
  partialSuccessNext(rejected: number, message: string): void {
    this.partial.push({ rejected, message });
  }

  /** Resolves once at least `n` spans arrived (rejects after `guardMs` so a broken test ends). */
  waitForSpans(n: number, guardMs = 20_000): Promise<void> {
    if (this.spans.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`receiver got ${this.spans.length} of ${n} spans`)),
        guardMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private onExport(
    call: grpc.ServerUnaryCall<any, any>,
    callback: grpc.sendUnaryData<any>,
    signal: 'traces' | 'logs' = 'traces',
  ): void {
    this.calls++;
    this.callTimes.push(Date.now());
    const failure = this.failures.shift();
    if (failure !== undefined) {
      const metadata = new grpc.Metadata();
      if (failure.retryDelayMs !== undefined) {
        metadata.set('grpc-status-details-bin', retryInfoDetails(failure.code, failure.retryDelayMs));
      }
      callback({ code: failure.code, details: 'test receiver failure', metadata });
      return;
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k] = String(v);
    this.requests.push({ body: call.request, metadata });
    if (signal === 'logs') this.logs.push(...flattenLogsRequest(call.request));
    else this.spans.push(...flattenRequest(call.request));
    const partial = this.partial.shift();
    const rejected = signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans';
    callback(
      null,
      partial
        ? { partialSuccess: { [rejected]: String(partial.rejected), errorMessage: partial.message } }
        : {},
    );
    this.waiters = this.waiters.filter((w) => {
      if (this.spans.length < w.n) return true;
      w.resolve();
      return false;
    });
  }
}
