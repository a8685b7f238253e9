import { readFileSync } from 'node:fs';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, ServiceError } from '@grpc/grpc-js';
import { ConfigError, errorMessage } from '../../core/errors';
import { ProtobufReader } from '../spans/protobuf-reader';
import { PODTRACE_SCOPE } from '../spans/instrumentation-scope';
import type { OtlpCompression, OtlpTlsConfig } from './otlp-config';
import type { OtlpTarget } from './otlp-target';
import { classifyGrpcError } from './grpc-retry';
import { OTLP_GRPC_METHODS } from './otlp-signal';

export const OTLP_TRACE_EXPORT_METHOD = OTLP_GRPC_METHODS.traces;
/** grpc-js compression algorithm numbers (CompressionAlgorithms). */
const GRPC_COMPRESSION_GZIP = 2;

/**
 * ExportTracePartialSuccess / ExportLogsPartialSuccess: items (spans or log records, field 1 of
 * either) the server accepted the request for but rejected.
 */
export interface ExportOutcome {
  rejectedSpans: number;
  errorMessage: string;
}

export interface OtlpGrpcClientOptions {
  target: OtlpTarget;
  tls: OtlpTlsConfig;
  compression: OtlpCompression;
  /** The channel's reconnect backoff follows the sink's retry backoff. */
  reconnectBackoffMs: { initial: number; max: number };
  /** The Export method (default: TraceService/Export; LogsService/Export for logs). */
  method?: string;
}

const passThrough = (b: Buffer): Buffer => b;

/** ExportTraceServiceResponse { partial_success = 1: { rejected_spans = 1; error_message = 2 } }. */
export function decodeExportResponse(bytes: Uint8Array): ExportOutcome {
  const out: ExportOutcome = { rejectedSpans: 0, errorMessage: '' };
  const r = new ProtobufReader(bytes);
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field !== 1 || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const p = new ProtobufReader(r.bytes());
    while (!p.done) {
      const [f, w] = p.tag();
      if (f === 1 && w === 0) out.rejectedSpans = p.varint();
      else if (f === 2 && w === 2) out.errorMessage = p.string();
      else p.skip(w);
    }
  }
  return out;
}

export function readPem(path: string | undefined, key: string): Buffer | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      `sinks.otlp.tls.${key}: ${JSON.stringify(path)} cannot be read: ${errorMessage(err)}`,
    );
  }
}

export function channelCredentials(secure: boolean, tls: OtlpTlsConfig): ChannelCredentials {
  if (!secure) return credentials.createInsecure();
  return credentials.createSsl(readPem(tls.ca, 'ca'), readPem(tls.key, 'key'), readPem(tls.cert, 'cert'));
}

/**
 * A gRPC client for TraceService/Export (or LogsService/Export) that sends pre-encoded request bytes as they are
 * (pass-through serializer) and reads the reply with a tiny decoder: no per-span objects.
 */
export class OtlpGrpcClient {
  private readonly client: Client;
  private readonly metadata: Metadata;
  private readonly method: string;

  constructor(options: OtlpGrpcClientOptions) {
    const channelOptions: ChannelOptions = {
      'grpc.primary_user_agent': `${PODTRACE_SCOPE.name}/${PODTRACE_SCOPE.version}`,
      'grpc.initial_reconnect_backoff_ms': options.reconnectBackoffMs.initial,
      'grpc.max_reconnect_backoff_ms': options.reconnectBackoffMs.max,
      'grpc.max_send_message_length': -1,
    };
    if (options.compression === 'gzip')
      channelOptions['grpc.default_compression_algorithm'] = GRPC_COMPRESSION_GZIP;
    this.client = new Client(
      options.target.address,
      channelCredentials(options.target.secure, options.tls),
      channelOptions,
    );
    this.method = options.method ?? OTLP_TRACE_EXPORT_METHOD;
    this.metadata = new Metadata();
    for (const [k, v] of Object.entries(options.target.headers)) this.metadata.set(k, v);
  }

  /** Sends one encoded Export*ServiceRequest; rejects with a classified PodtraceError. */
  export(body: Buffer, timeoutMs: number): Promise<ExportOutcome> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        this.method,
        passThrough,
        passThrough,
        body,
        this.metadata.clone(),
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, reply?: Buffer) => {
          if (err !== null) {
            reject(classifyGrpcError(err));
            return;
          }
          let outcome: ExportOutcome = { rejectedSpans: 0, errorMessage: '' };
          try {
            if (reply !== undefined) outcome = decodeExportResponse(reply);
          } catch (decodeErr) {
            // The server accepted the request; only its partial-success detail is unreadable.
            outcome.errorMessage = `unreadable response: ${errorMessage(decodeErr)}`;
          }
          resolve(outcome);
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
