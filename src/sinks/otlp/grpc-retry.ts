import { status } from '@grpc/grpc-js';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { PermanentError, RetryableError, errorMessage, isRetriable, retryDelayOf } from '../../core/errors';
import type { PodtraceError } from '../../core/errors';
import type { SendFailure } from '../exporter/send-outcome';
import { ProtobufReader } from '../spans/protobuf-reader';

/** Retried like the OpenTelemetry Collector's exporters do. */
const RETRIABLE_CODES: ReadonlySet<number> = new Set([
  status.CANCELLED,
  status.DEADLINE_EXCEEDED,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

/** The name of a gRPC status code (`UNAVAILABLE`), for metric labels and logs. */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

/** google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2 } → ms. */
function durationMs(bytes: Uint8Array): number {
  const r = new ProtobufReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) seconds = r.varint();
    else if (field === 2 && wire === 0) nanos = r.varint();
    else r.skip(wire);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

/**
 * The server's retry delay from `grpc-status-details-bin` (google.rpc.Status { details = 3:
 * repeated Any { type_url = 1; value = 2 } }, looking for a google.rpc.RetryInfo { retry_delay = 1 }).
 * Undefined when absent or malformed.
 */
export function serverRetryDelayMs(metadata: Metadata | undefined): number | undefined {
  const raw = metadata?.get(STATUS_DETAILS_KEY)[0];
  if (raw === undefined || typeof raw === 'string') return undefined;
  try {
    const statusReader = new ProtobufReader(raw);
    while (!statusReader.done) {
      const [field, wire] = statusReader.tag();
      if (field !== 3 || wire !== 2) {
        statusReader.skip(wire);
        continue;
      }
      const any = new ProtobufReader(statusReader.bytes());
      let typeUrl = '';
      let value: Uint8Array | undefined;
      while (!any.done) {
        const [f, w] = any.tag();
        if (f === 1 && w === 2) typeUrl = any.string();
        else if (f === 2 && w === 2) value = any.bytes();
        else any.skip(w);
      }
      if (typeUrl !== RETRY_INFO_TYPE || value === undefined) continue;
      const info = new ProtobufReader(value);
      while (!info.done) {
        const [f, w] = info.tag();
        if (f === 1 && w === 2) return durationMs(info.bytes());
        info.skip(w);
      }
      return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Classifies a failed export: retriable codes (with the server's RetryInfo delay when sent),
 * RESOURCE_EXHAUSTED only when the server sent a retry delay, everything else permanent.
 */
export function classifyGrpcError(err: ServiceError): PodtraceError {
  const code = err.code;
  const delay = serverRetryDelayMs(err.metadata);
  const message = `OTLP export failed: ${statusName(code)}: ${err.details || err.message}`;
  if (RETRIABLE_CODES.has(code) || (code === status.RESOURCE_EXHAUSTED && delay !== undefined)) {
    return new RetryableError(message, { cause: err, retryAfterMs: delay });
  }
  return new PermanentError(message, err);
}

/** The gRPC status name behind a classified export error (`UNAVAILABLE`), or `error`. */
export function grpcStatusOf(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? statusName(code) : 'error';
}

/** grpc-js (and grpc-go, the Collector) answer RESOURCE_EXHAUSTED with this when a message is over the receive limit. */
const TOO_LARGE_DETAIL = /larger than max|message too large|exceeds (the )?max/i;

/**
 * The exporter core's view of a failed export (see exporter/send-outcome.ts): retriable codes are
 * retried (with the server's RetryInfo delay when sent), RESOURCE_EXHAUSTED for a message over
 * the receiver's size limit is split, everything else is permanent.
 */
export function grpcSendFailure(err: unknown): SendFailure {
  const code = grpcStatusOf(err);
  const message = errorMessage(err);
  const cause = err instanceof Error ? (err.cause as Partial<ServiceError> | undefined) : undefined;
  if (
    cause?.code === status.RESOURCE_EXHAUSTED &&
    retryDelayOf(err) === undefined &&
    TOO_LARGE_DETAIL.test(`${cause.details ?? ''} ${cause.message ?? ''}`)
  )
    return { kind: 'too_large', code, message };
  if (isRetriable(err)) return { kind: 'retry', code, message, delayMs: retryDelayOf(err) };
  return { kind: 'permanent', code, message };
}
