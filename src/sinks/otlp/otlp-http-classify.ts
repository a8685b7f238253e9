import type { IncomingHttpHeaders } from 'node:http';
import { isProgrammingError } from '../../core/errors';
import type { SendFailure } from '../exporter/send-outcome';
import { ProtobufReader } from '../spans/protobuf-reader';
import type { ExportOutcome } from './otlp-grpc-client';
import { decodeExportResponse } from './otlp-grpc-client';

/**
 * What an OTLP/HTTP exchange means for the request (the OTLP/HTTP specification's rules):
 * - `ok`: 2xx; `rejected`/`message` from the partial-success field of the response (rejected_spans
 *   or rejected_log_records, field 1 of either response's partial_success);
 * - `retry`: 429, 502, 503, 504 (the server's `Retry-After` as `delayMs`) and network failures
 *   (`bounded: false` when the endpoint cannot be reached at all);
 * - `too_large`: 413, the request must be split;
 * - `permanent`: every other status (400's google.rpc.Status message in `message`).
 * `code` labels metrics and logs: `http_503`, `ECONNREFUSED`, `timeout`.
 */
export type HttpExportOutcome = { kind: 'ok'; outcome: ExportOutcome } | SendFailure;

const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** `Retry-After` as a delay in ms: delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  if (!/[A-Za-z]/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** google.rpc.Status { int32 code = 1; string message = 2; … }: the message, or '' when unreadable. */
export function rpcStatusMessage(body: Uint8Array): string {
  try {
    const r = new ProtobufReader(body);
    let message = '';
    while (!r.done) {
      const [field, wire] = r.tag();
      if (field === 2 && wire === 2) message = r.string();
      else r.skip(wire);
    }
    return message;
  } catch {
    return '';
  }
}

const isProtobuf = (headers: IncomingHttpHeaders): boolean =>
  (headers['content-type'] ?? 'application/x-protobuf').includes('protobuf');

/** The failure's text from the response body: a google.rpc.Status message, or short plain text. */
function bodyMessage(headers: IncomingHttpHeaders, body: Uint8Array): string {
  if (body.length === 0) return '';
  if (isProtobuf(headers)) return rpcStatusMessage(body);
  const text = Buffer.from(body.subarray(0, 256)).toString('utf8').trim();
  return (headers['content-type'] ?? '').startsWith('text/') ? text : '';
}

const HINTS: Readonly<Record<number, string>> = {
  401: 'the receiver wants credentials: set sinks.otlp.headers or OTEL_EXPORTER_OTLP_HEADERS',
  403: 'the receiver refused the credentials in sinks.otlp.headers / OTEL_EXPORTER_OTLP_HEADERS',
  404: 'no OTLP receiver at this path: a base endpoint gets /v1/traces and /v1/logs appended, OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT is used as given',
  415: 'the receiver does not take application/x-protobuf',
};

/** Classifies a response that arrived (status, headers, the bounded body). */
export function classifyHttpResponse(
  status: number,
  headers: IncomingHttpHeaders,
  body: Uint8Array,
  nowMs: number,
): HttpExportOutcome {
  if (status >= 200 && status < 300) {
    if (body.length === 0 || !isProtobuf(headers))
      return { kind: 'ok', outcome: { rejectedSpans: 0, errorMessage: '' } };
    try {
      return { kind: 'ok', outcome: decodeExportResponse(body) };
    } catch (err) {
      // Accepted; only the partial-success detail is unreadable.
      const why = err instanceof Error ? err.message : String(err);
      return { kind: 'ok', outcome: { rejectedSpans: 0, errorMessage: `unreadable response: ${why}` } };
    }
  }
  const code = `http_${status}`;
  const detail = bodyMessage(headers, body);
  const message = `OTLP/HTTP export failed: ${status}${detail === '' ? '' : `: ${detail}`}`;
  if (RETRYABLE_STATUS.has(status)) {
    const retryAfter: string | undefined = headers['retry-after'];
    return { kind: 'retry', code, message, delayMs: parseRetryAfter(retryAfter, nowMs) };
  }
  if (status === 413) return { kind: 'too_large', code, message };
  const hint = HINTS[status];
  return hint === undefined
    ? { kind: 'permanent', code, message }
    : { kind: 'permanent', code, message, hint };
}

/** Socket-level failures where nothing answers at all: retried until shutdown (the queue bounds the cost). */
const UNREACHABLE: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Classifies a request that got no response (refused, reset, timed out, TLS failure): always retried. */
export function classifyHttpFailure(err: unknown): SendFailure {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  const rawCode = typeof e?.code === 'string' ? e.code : '';
  const text = typeof e?.message === 'string' ? e.message : String(err);
  if (name === 'TimeoutError' || rawCode === 'ETIMEDOUT')
    return { kind: 'retry', code: 'timeout', message: `OTLP/HTTP export timed out: ${text}` };
  const code = rawCode === '' ? 'error' : rawCode;
  return {
    kind: 'retry',
    code,
    message: `OTLP/HTTP export failed: ${text}`,
    bounded: !UNREACHABLE.has(code),
  };
}

/**
 * The exporter core's view of a failed OTLP/HTTP export: the classification the client rejected
 * with (carried as the error's cause); a programming error is permanent, anything else unexpected
 * is retried.
 */
export function httpSendFailure(err: unknown): SendFailure {
  const cause = err instanceof Error ? err.cause : undefined;
  const kind = (cause as { kind?: unknown } | undefined)?.kind;
  if (kind === 'retry' || kind === 'permanent' || kind === 'too_large') return cause as SendFailure;
  const message = err instanceof Error ? err.message : String(err);
  if (isProgrammingError(err)) return { kind: 'permanent', code: 'error', message };
  return { kind: 'retry', code: 'error', message };
}
