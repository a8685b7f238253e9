import type { DropPolicy } from '../../core/bounded-queue';
import type { JsonSchema } from '../../config/schema-types';
import type { QueueStorage } from '../exporter/queue-storage';
import {
  DEFAULT_DISK_QUEUE_MAX_BYTES,
  MIN_DISK_QUEUE_MAX_BYTES,
  queueStorageSchema,
} from '../exporter/queue-storage';

/** `json`: one flat JSON record per event (data lakes). `otlp_proto`: ExportTraceServiceRequest bytes (Collector Kafka receiver). */
export type KafkaEncoding = 'json' | 'otlp_proto' | 'otlp_logs';
export const KAFKA_ENCODINGS: readonly KafkaEncoding[] = ['json', 'otlp_proto', 'otlp_logs'];

/** `all` (= -1): every in-sync replica; 1: the leader; 0: no acknowledgement. */
export type KafkaAcks = 'all' | -1 | 0 | 1;
/**
 * Record-batch compression. `zstd` (Node's built-in zlib, registered with kafkajs; brokers >= 2.1):
 * gzip's ratio at about a fifth of its CPU. snappy and lz4 would need codec packages; zstd beats both.
 */
export type KafkaCompression = 'none' | 'gzip' | 'zstd';
export const KAFKA_COMPRESSIONS: readonly KafkaCompression[] = ['none', 'gzip', 'zstd'];
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export const DEFAULT_KAFKA_CLIENT_ID = 'podtrace';
export const DEFAULT_KAFKA_ENCODINGS: readonly KafkaEncoding[] = ['json'];
export const DEFAULT_KAFKA_TOPIC_PREFIX = 'podtrace.';
export const DEFAULT_KAFKA_ACKS: KafkaAcks = 'all';
export const DEFAULT_KAFKA_COMPRESSION: KafkaCompression = 'zstd';
/** kafkajs is fastest at 1,000–4,000 records per send; 10,000 is slower (quadratic per-partition grouping). */
export const DEFAULT_KAFKA_BATCH_MAX_RECORDS = 2000;
export const DEFAULT_KAFKA_BATCH_MAX_DELAY_MS = 100;
/** Bytes of records per send (before compression); a batch the broker still refuses as too large is split. */
export const DEFAULT_KAFKA_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/**
 * The buffer's bound in bytes, next to `buffer.maxRecords`: what the buffered records and the sends
 * in flight hold in memory (encoded size + KAFKA_RECORD_OVERHEAD_BYTES each). 16 MiB: the 20,000
 * records of `maxRecords` at ~700 B each plus the sends in flight; larger records hit it first.
 */
export const DEFAULT_KAFKA_BUFFER_MAX_BYTES = 16 * 1024 * 1024;
/** Under the brokers' default `message.max.bytes` (1 MB): `otlp_proto` records are cut to fit. */
export const DEFAULT_KAFKA_MAX_RECORD_BYTES = 1_000_000;
/** Backoff of a failed send; a topic or record error is given up (counted) after maxElapsedMs, an unreachable cluster is retried until the buffer bound. */
export const DEFAULT_KAFKA_RETRY_INITIAL_BACKOFF_MS = 100;
export const DEFAULT_KAFKA_RETRY_MAX_BACKOFF_MS = 5000;
export const DEFAULT_KAFKA_RETRY_MAX_ELAPSED_MS = 120_000;
/**
 * sendBatch calls in flight at once. Each covers its own set of partitions (a partition always
 * goes through the same lane), so per-partition order and idempotent sequence numbers hold.
 */
export const DEFAULT_KAFKA_MAX_IN_FLIGHT = 4;
export const MAX_KAFKA_MAX_IN_FLIGHT = 64;
/**
 * Records held while brokers are slow or away: 2 s at 10k events/s. The bound on the agent's memory
 * in a storm (bench agent scenario, overload with every sink: 50,000 records + 65,536 OTLP spans
 * held 400–440 MB of heap, RSS 550–660 MB; 20,000 + 16,384 about 110 MB, RSS 230–260 MB); ride out
 * longer outages with `queue.storage: disk`.
 */
export const DEFAULT_KAFKA_BUFFER_MAX_RECORDS = 20_000;
export const DEFAULT_KAFKA_DROP_POLICY: DropPolicy = 'oldest';
export const DEFAULT_KAFKA_LOSS_REPORT_SECONDS = 10;
/** The OpenTelemetry Collector Kafka receiver's default topic. */
export const DEFAULT_KAFKA_OTLP_TOPIC = 'otlp_spans';
/** The Collector kafkareceiver's default logs topic. */
export const DEFAULT_KAFKA_OTLP_LOGS_TOPIC = 'otlp_logs';
/** Events per otlp_proto record (each makes at most one span): keeps a record well under the brokers' default 1 MB message limit. */
export const DEFAULT_KAFKA_OTLP_SPANS_PER_RECORD = 500;

export interface KafkaTlsConfig {
  /** PEM files. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface KafkaSaslConfig {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** A file holding the password (trailing newline ignored). */
  passwordFile?: string;
  /** The name of an environment variable holding the password. */
  passwordEnv?: string;
}

export interface KafkaSinkConfig {
  enabled: boolean;
  brokers: string[];
  clientId: string;
  encodings: KafkaEncoding[];
  topicPrefix: string;
  /** Per event group (`process`, `tcp`, `oom`, `loss`): the full topic name, replacing `<topicPrefix><group>`. */
  topics: Record<string, string>;
  acks: KafkaAcks;
  compression: KafkaCompression;
  batch: { maxRecords: number; maxBytes: number; maxDelayMs: number };
  /** Sends in flight at once, each to a disjoint set of partitions. */
  maxInFlight: number;
  buffer: { maxRecords: number; maxBytes: number; dropPolicy: DropPolicy };
  /**
   * `storage: disk`: records go to segment files under `dir`, bounded by `maxBytes` (oldest dropped
   * past it, counted as disk_queue_full), and survive a restart; `buffer` then bounds the in-memory
   * read-ahead. `memory` (default): `buffer` is the whole queue.
   */
  queue: { storage: QueueStorage; dir: string; maxBytes: number };
  /** Backoff of failed sends; `maxElapsedMs` bounds topic and record errors (0: never give up). */
  retry: { initialBackoffMs: number; maxBackoffMs: number; maxElapsedMs: number };
  /** `otlp_proto` records are cut to at most this many bytes (the broker's `message.max.bytes`). */
  maxRecordBytes: number;
  /** Exactly-once per partition where the cluster supports it (falls back, with a warning, where it does not). */
  idempotent: boolean;
  tls?: KafkaTlsConfig;
  sasl?: KafkaSaslConfig;
  lossReportSeconds: number;
  otlpTopic: string;
  /** Topic of `otlp_logs` records (ExportLogsServiceRequest bytes). */
  otlpLogsTopic: string;
  otlpSpansPerRecord: number;
}

const TOPIC_NAME = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' };

export const kafkaSinkSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: false },
    brokers: { type: 'array', items: { type: 'string', format: 'host-port' }, default: [] },
    clientId: { type: 'string', minLength: 1, default: DEFAULT_KAFKA_CLIENT_ID },
    encodings: {
      type: 'array',
      items: { enum: [...KAFKA_ENCODINGS] },
      minItems: 1,
      uniqueItems: true,
      default: [...DEFAULT_KAFKA_ENCODINGS],
    },
    topicPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{0,200}$', default: DEFAULT_KAFKA_TOPIC_PREFIX },
    topics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { process: TOPIC_NAME, tcp: TOPIC_NAME, oom: TOPIC_NAME, loss: TOPIC_NAME },
    },
    acks: { enum: ['all', -1, 0, 1], default: DEFAULT_KAFKA_ACKS },
    compression: { enum: [...KAFKA_COMPRESSIONS], default: DEFAULT_KAFKA_COMPRESSION },
    batch: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxRecords: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          default: DEFAULT_KAFKA_BATCH_MAX_RECORDS,
        },
        maxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 1_073_741_824,
          default: DEFAULT_KAFKA_BATCH_MAX_BYTES,
        },
        maxDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 60000,
          default: DEFAULT_KAFKA_BATCH_MAX_DELAY_MS,
        },
      },
    },
    maxInFlight: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_KAFKA_MAX_IN_FLIGHT,
      default: DEFAULT_KAFKA_MAX_IN_FLIGHT,
    },
    buffer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxRecords: {
          type: 'integer',
          minimum: 1,
          maximum: 10000000,
          default: DEFAULT_KAFKA_BUFFER_MAX_RECORDS,
        },
        maxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 68_719_476_736,
          default: DEFAULT_KAFKA_BUFFER_MAX_BYTES,
        },
        dropPolicy: { enum: ['oldest', 'newest'], default: DEFAULT_KAFKA_DROP_POLICY },
      },
    },
    queue: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ...queueStorageSchema('kafka'),
        maxBytes: {
          type: 'integer',
          minimum: MIN_DISK_QUEUE_MAX_BYTES,
          maximum: 1_099_511_627_776,
          default: DEFAULT_DISK_QUEUE_MAX_BYTES,
        },
      },
    },
    idempotent: { type: 'boolean', default: true },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        initialBackoffMs: {
          type: 'integer',
          minimum: 1,
          maximum: 600_000,
          default: DEFAULT_KAFKA_RETRY_INITIAL_BACKOFF_MS,
        },
        maxBackoffMs: {
          type: 'integer',
          minimum: 1,
          maximum: 3_600_000,
          default: DEFAULT_KAFKA_RETRY_MAX_BACKOFF_MS,
        },
        maxElapsedMs: {
          type: 'integer',
          minimum: 0,
          maximum: 86_400_000,
          default: DEFAULT_KAFKA_RETRY_MAX_ELAPSED_MS,
        },
      },
    },
    maxRecordBytes: {
      type: 'integer',
      minimum: 1024,
      maximum: 1_073_741_824,
      default: DEFAULT_KAFKA_MAX_RECORD_BYTES,
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ca: { type: 'string', minLength: 1 },
        cert: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
      },
      dependencies: { cert: ['key'], key: ['cert'] },
    },
    sasl: {
      type: 'object',
      additionalProperties: false,
      required: ['mechanism', 'username'],
      properties: {
        mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'] },
        username: { type: 'string', minLength: 1 },
        passwordFile: { type: 'string', minLength: 1 },
        passwordEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      },
      oneOf: [{ required: ['passwordFile'] }, { required: ['passwordEnv'] }],
    },
    lossReportSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: DEFAULT_KAFKA_LOSS_REPORT_SECONDS,
    },
    otlpTopic: { ...TOPIC_NAME, default: DEFAULT_KAFKA_OTLP_TOPIC },
    otlpLogsTopic: { ...TOPIC_NAME, default: DEFAULT_KAFKA_OTLP_LOGS_TOPIC },
    otlpSpansPerRecord: {
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      default: DEFAULT_KAFKA_OTLP_SPANS_PER_RECORD,
    },
  },
};
