import type { JsonSchema } from '../../config/schema-types';
import type { QueueStorage } from '../exporter/queue-storage';
import { queueStorageSchema } from '../exporter/queue-storage';
import { DEFAULT_MAX_TRACE_SECONDS, DEFAULT_MAX_TRACKED_PROCESSES } from '../spans/span-mapper';
import type { OtlpProtocol, OtlpSignal } from './otlp-signal';
import { OTLP_PROTOCOLS, OTLP_SIGNALS } from './otlp-signal';

export type OtlpCompression = 'gzip' | 'none';

/** Used when neither the config nor OTEL_EXPORTER_OTLP_(TRACES_|LOGS_)ENDPOINT names an endpoint. */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4317';
/** The same for `protocol: http/protobuf` (a base endpoint: `/v1/traces` and `/v1/logs` are appended). */
export const DEFAULT_OTLP_HTTP_ENDPOINT = 'http://localhost:4318';
export const DEFAULT_OTLP_SIGNALS: readonly OtlpSignal[] = ['traces'];
export const DEFAULT_OTLP_COMPRESSION: OtlpCompression = 'gzip';
export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
export const DEFAULT_OTLP_BATCH_MAX_SPANS = 2048;
export const DEFAULT_OTLP_BATCH_MAX_DELAY_MS = 1000;
/** Under the Collector's default 4 MiB gRPC receive limit (a batch over it is split before it is sent). */
export const DEFAULT_OTLP_BATCH_MAX_BYTES = 3 * 1024 * 1024;
/**
 * Memory a queued span or log record holds beyond its encoded size (both are queued encoded: the
 * item object, its view of a shared slab, the slab's unused tail): 616 B of heap and slab per span
 * against 441 B counted, 519 B per log record against 373 B, `node --expose-gc
 * dist/bench/retained-bytes.js`.
 */
export const OTLP_SPAN_OVERHEAD_BYTES = 175;
export const OTLP_LOG_RECORD_OVERHEAD_BYTES = 150;
/**
 * Bytes the queue and the exports in flight hold in memory (estimated encoded size + the per-item
 * overhead): 16 MiB, ~23k typical spans (~700 B each), so `maxSpans` binds first for typical
 * spans and this bound for large ones (long command lines); at most 16 MiB of the heap either way.
 */
export const DEFAULT_OTLP_QUEUE_MAX_BYTES = 16 * 1024 * 1024;
/**
 * 8 full batches, ~1.6 s at 10k spans/s. The bound on the agent's memory in a storm (see
 * DEFAULT_KAFKA_BUFFER_MAX_RECORDS for the measurement); ride out longer outages with `queue.storage: disk`.
 */
export const DEFAULT_OTLP_QUEUE_MAX_SPANS = 16_384;
/** Capacity of the pipeline with the OTLP sink alone: 32.7k ev/s at 2, 45.7k at 4 (bench/profile.ts, rate 0). */
export const DEFAULT_OTLP_MAX_CONCURRENT_EXPORTS = 4;
export const DEFAULT_OTLP_RETRY_INITIAL_BACKOFF_MS = 1000;
export const DEFAULT_OTLP_RETRY_MAX_BACKOFF_MS = 30_000;
export const DEFAULT_OTLP_RETRY_MAX_ELAPSED_MS = 120_000;

export interface OtlpTlsConfig {
  /** PEM file of the CA that signed the collector's certificate (default: the system roots). */
  ca?: string;
  /** PEM client certificate and key for mutual TLS (both or neither). */
  cert?: string;
  key?: string;
}

export interface OtlpSinkConfig {
  enabled: boolean;
  /** Unset: OTEL_EXPORTER_OTLP_(TRACES_|LOGS_)PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, then `grpc`. */
  protocol?: OtlpProtocol;
  /**
   * What is exported: spans (`traces`), one OTLP log record per kernel event (`logs`), or both
   * from the same mapping pass (each signal then has its own queue, batches and retries).
   */
  signals: OtlpSignal[];
  /**
   * gRPC endpoint, or the OTLP/HTTP base endpoint (`/v1/traces`, `/v1/logs` appended); unset means
   * OTEL_EXPORTER_OTLP_(TRACES_|LOGS_)ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, then the default.
   */
  endpoint?: string;
  /** Plain-text gRPC. Unset: plain text for `http://` endpoints, TLS otherwise. */
  insecure?: boolean;
  tls: OtlpTlsConfig;
  /** gRPC metadata sent with every export (added to OTEL_EXPORTER_OTLP_(TRACES_)HEADERS; these win). */
  headers: Record<string, string>;
  compression: OtlpCompression;
  timeoutMs: number;
  batch: { maxSpans: number; maxBytes: number; maxDelayMs: number };
  /**
   * `storage: memory`: `maxBytes` bounds the spans' estimated encoded size in memory. `disk`: spans
   * go to segment files under `dir` (`traces/`, `logs/`) and `maxBytes` bounds the files; `maxSpans`
   * then bounds the in-memory read-ahead.
   */
  queue: { maxSpans: number; maxBytes: number; storage: QueueStorage; dir: string };
  maxConcurrentExports: number;
  retry: { initialBackoffMs: number; maxBackoffMs: number; maxElapsedMs: number };
  traces: { maxTraceSeconds: number; maxTrackedProcesses: number };
  /**
   * Deprecated: use the top-level `redact.patterns`, which covers every sink and the console.
   * When set, its patterns are added to those (with a warning at start).
   */
  redact?: string[];
}

/**
 * `http(s)://host[:port][/path]` or `host:port` (an IPv6 host in brackets). A path is for OTLP/HTTP
 * behind a prefix (`https://otlp.example.com/otlp`); gRPC refuses it when the target is resolved.
 */
export const OTLP_ENDPOINT_PATTERN =
  "^((https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?)|((\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+):[0-9]{1,5}))$";

export const otlpSinkSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: false },
    protocol: { enum: [...OTLP_PROTOCOLS] },
    signals: {
      type: 'array',
      items: { enum: [...OTLP_SIGNALS] },
      minItems: 1,
      uniqueItems: true,
      default: [...DEFAULT_OTLP_SIGNALS],
    },
    endpoint: { type: 'string', pattern: OTLP_ENDPOINT_PATTERN },
    insecure: { type: 'boolean' },
    tls: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ca: { type: 'string', minLength: 1 },
        cert: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
      },
      dependencies: { cert: ['key'], key: ['cert'] },
    },
    headers: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[A-Za-z0-9_.-]+$' },
      additionalProperties: { type: 'string' },
    },
    compression: { enum: ['gzip', 'none'], default: DEFAULT_OTLP_COMPRESSION },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000, default: DEFAULT_OTLP_TIMEOUT_MS },
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxSpans: { type: 'integer', minimum: 1, maximum: 65_536, default: DEFAULT_OTLP_BATCH_MAX_SPANS },
        maxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 1_073_741_824,
          default: DEFAULT_OTLP_BATCH_MAX_BYTES,
        },
        maxDelayMs: {
          type: 'integer',
          minimum: 1,
          maximum: 60_000,
          default: DEFAULT_OTLP_BATCH_MAX_DELAY_MS,
        },
      },
    },
    queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxSpans: { type: 'integer', minimum: 1, maximum: 16_777_216, default: DEFAULT_OTLP_QUEUE_MAX_SPANS },
        maxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 68_719_476_736,
          default: DEFAULT_OTLP_QUEUE_MAX_BYTES,
        },
        ...queueStorageSchema('otlp'),
      },
    },
    maxConcurrentExports: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: DEFAULT_OTLP_MAX_CONCURRENT_EXPORTS,
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialBackoffMs: {
          type: 'integer',
          minimum: 1,
          maximum: 600_000,
          default: DEFAULT_OTLP_RETRY_INITIAL_BACKOFF_MS,
        },
        maxBackoffMs: {
          type: 'integer',
          minimum: 1,
          maximum: 3_600_000,
          default: DEFAULT_OTLP_RETRY_MAX_BACKOFF_MS,
        },
        maxElapsedMs: {
          type: 'integer',
          minimum: 0,
          maximum: 86_400_000,
          default: DEFAULT_OTLP_RETRY_MAX_ELAPSED_MS,
        },
      },
    },
    traces: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxTraceSeconds: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 86_400,
          default: DEFAULT_MAX_TRACE_SECONDS,
        },
        maxTrackedProcesses: {
          type: 'integer',
          minimum: 16,
          maximum: 4_194_304,
          default: DEFAULT_MAX_TRACKED_PROCESSES,
        },
      },
    },
    redact: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
};
