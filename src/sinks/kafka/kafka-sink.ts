import { hostname } from 'node:os';
import type { Message } from 'kafkajs';
import { CompressionTypes, Kafka, kafkajsOverrides } from './kafkajs';
import type { ReadinessProbe } from '../../core/component';
import { errorMessage } from '../../core/errors';
import { agentInstanceId } from '../../core/instance-id';
import type { Logger } from '../../core/logger';
import type { EventBatch, PodtraceEvent } from '../../events/event';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import type { DropReasons } from '../exporter/drop-reasons';
import { ByteSlab } from '../exporter/byte-slab';
import { Exporter } from '../exporter/exporter';
import { kafkaClientOptions } from './kafka-client-options';
import type { KafkaCompression, KafkaSinkConfig } from './kafka-config';
import { KAFKA_JSON_SCHEMA_VERSION, KafkaJsonEncoder } from './kafka-json-encoder';
import type { LossSource } from './kafka-loss-report';
import { LossReporter, encodeLossRecord } from './kafka-loss-report';
import type { OtlpRecordEncoder } from './kafka-otlp-encoder';
import { createOtlpRecordEncoder } from './kafka-otlp-encoder';
import type { BatchMapping } from '../spans/batch-mapping';
import { createBatchMapping } from '../spans/batch-mapping';
import { KafkaProducers } from './kafka-producers';
import type { KafkaRecord } from './kafka-record';
import { KAFKA_RECORD_OVERHEAD_BYTES, kafkaRecordBytes } from './kafka-record';
import { kafkaRecordCodec } from './kafka-record-codec';
import { kafkaRecordKeys } from './kafka-record-key';
import { LOSS_TOPIC_GROUP, topicForGroup, topicsByKind } from './kafka-topics';
import { KafkaTransport } from './kafka-transport';
import { registerZstdCodec } from './kafka-zstd-codec';

const SINK = 'kafka';
const SCHEMA_HEADER = 'podtrace-schema';
/** Loss records (one per `lossReportSeconds`) keep their headers; json event records carry none. */
const LOSS_HEADERS = Object.freeze({
  'content-type': 'application/json',
  [SCHEMA_HEADER]: String(KAFKA_JSON_SCHEMA_VERSION),
  'podtrace-record': 'loss',
});
const OTLP_HEADERS = Object.freeze({
  'content-type': 'application/x-protobuf',
  [SCHEMA_HEADER]: String(KAFKA_JSON_SCHEMA_VERSION),
});
/** Loss records waiting for the cluster; at the default 10 s interval an hour of outage. */
const MAX_PENDING_LOSS_RECORDS = 360;
/** Slabs json values are written into (~90 typical records each). */
const JSON_VALUE_SLAB_BYTES = 64 * 1024;
/** kafkajs's broker-side acknowledgement timeout of a produce request. */
const SEND_TIMEOUT_MS = 30_000;
/** Share of the shutdown time kept for the final loss record (at most LOSS_RESERVE_MAX_MS). */
const LOSS_RESERVE_SHARE = 0.1;
const LOSS_RESERVE_MAX_MS = 1000;
export const DEFAULT_KAFKA_SHUTDOWN_TIMEOUT_MS = 10000;

/** kafkajs's compression type of `sinks.kafka.compression` (registers the zstd codec when needed). */
function kafkaCompressionType(compression: KafkaCompression): CompressionTypes {
  if (compression === 'gzip') return CompressionTypes.GZIP;
  if (compression === 'zstd') {
    registerZstdCodec();
    return CompressionTypes.ZSTD;
  }
  return CompressionTypes.None;
}

/** The Kafka sink's historical drop reason names (docs/operations.md#delivery). */
const KAFKA_REASONS: Partial<DropReasons> = {
  queueFull: 'buffer_full',
  permanent: 'rejected',
  shutdownTimeout: 'shutdown',
  afterShutdown: 'shutdown',
};

export interface KafkaSinkDeps {
  logger: Logger;
  metrics: Metrics;
  nodeName: string;
  env?: NodeJS.ProcessEnv;
  /** Cumulative kernel ring-buffer losses by kind; default: Metrics.kernelLost. */
  lossSource?: LossSource;
  /** How long shutdown() may take to flush the buffer (when no shared deadline is given). */
  shutdownTimeoutMs?: number;
  /** `process.command_args` redaction patterns (see events/redact.ts). */
  redact?: readonly string[];
  /** Encodes events as ExportTraceServiceRequests; default: createOtlpRecordEncoder over `mapping`. */
  otlpEncoder?: OtlpRecordEncoder;
  /**
   * The agent's one events → OTLP mapping, shared with the OTLP sink (it must want the signals of
   * `otlp_proto` / `otlp_logs`); default: a mapping of the sink's own.
   */
  mapping?: BatchMapping;
  /** For the span ids of `otlp_proto` (default: /proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** `host.name` of `otlp_proto` resources (default: os.hostname()). */
  hostName?: string;
  /** `podtrace.instance.id` of this run (default: agentInstanceId()). */
  instanceId?: string;
}

/**
 * Writes events to Kafka: `json` records per event on `<prefix><group>` topics and/or `otlp_proto`
 * ExportTraceServiceRequest records on the OTLP topic, plus a loss record every
 * `lossReportSeconds`. `consume()` gives each event its `event.seq`, encodes the records and
 * offers them to the exporter core (src/sinks/exporter), keyed by topic: one `sendBatch` per topic
 * in flight (per-partition order and idempotent sequence numbers hold), up to `maxInFlight` topics
 * at once, a topic that fails never holding up the others. An outage shorter than the buffer
 * loses nothing; what exceeds it is dropped (oldest first by default) and counted.
 */
export class KafkaSink implements Sink, ReadinessProbe {
  readonly name = SINK;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly records: Exporter<KafkaRecord, Message[]>;
  private readonly losses: Exporter<KafkaRecord, Message[]>;
  private readonly producers: KafkaProducers;
  private readonly json: KafkaJsonEncoder | null;
  /** Where json values are written as bytes when the sink accepts their events. */
  private readonly values = new ByteSlab(JSON_VALUE_SLAB_BYTES);
  private readonly keyOf: (e: PodtraceEvent) => string;
  private readonly otlp: OtlpRecordEncoder | null;
  private readonly topics: readonly string[];
  private readonly unknownTopic: string;
  private readonly lossTopic: string;
  private readonly lossReporter: LossReporter;
  private readonly shutdownTimeoutMs: number;
  readonly instanceId: string;
  private seq = 0;
  private started = false;
  private closing: Promise<void> | null = null;
  private lossTimer: NodeJS.Timeout | null = null;
  /** Events not delivered by the shutdown deadline (counted as `shutdown`). */
  undeliveredAtShutdown = 0;
  /** Events the disk queue keeps for the next start. */
  keptOnDisk = 0;

  constructor(
    private readonly cfg: KafkaSinkConfig,
    private readonly deps: KafkaSinkDeps,
  ) {
    this.log = deps.logger.child({ component: SINK });
    this.metrics = deps.metrics;
    this.instanceId = deps.instanceId ?? agentInstanceId();
    this.json = cfg.encodings.includes('json')
      ? new KafkaJsonEncoder(deps.nodeName, deps.redact, this.instanceId)
      : null;
    const spans = cfg.encodings.includes('otlp_proto');
    const logs = cfg.encodings.includes('otlp_logs');
    this.otlp =
      spans || logs
        ? (deps.otlpEncoder ??
          createOtlpRecordEncoder({
            mapping:
              deps.mapping ??
              createBatchMapping({
                spans,
                logs,
                nodeName: deps.nodeName,
                hostName: deps.hostName ?? hostname(),
                bootId: deps.bootId,
                env: deps.env ?? process.env,
                logger: this.log,
                instanceId: this.instanceId,
                redact: deps.redact,
              }),
            spansTopic: spans ? cfg.otlpTopic : null,
            logsTopic: logs ? cfg.otlpLogsTopic : null,
            // A mapping shared with the OTLP sink: it sends the same spans, encoded once here.
            shareSpanBytes: deps.mapping !== undefined,
          }))
        : null;
    this.topics = topicsByKind(cfg.topicPrefix, cfg.topics);
    this.keyOf = kafkaRecordKeys(deps.nodeName);
    this.unknownTopic = topicForGroup('unknown', cfg.topicPrefix, cfg.topics);
    this.lossTopic = topicForGroup(LOSS_TOPIC_GROUP, cfg.topicPrefix, cfg.topics);
    this.lossReporter = new LossReporter(deps.metrics, deps.nodeName, deps.lossSource, this.instanceId);
    const kafka = new Kafka(kafkaClientOptions(cfg, { logger: deps.logger, env: deps.env ?? process.env }));
    const acks = cfg.acks === 'all' ? -1 : cfg.acks;
    const idempotent = cfg.idempotent && acks === -1;
    if (cfg.idempotent && !idempotent)
      this.log.info({ acks: cfg.acks }, 'idempotent producer needs acks: all; producing without idempotence');
    this.producers = new KafkaProducers(kafka, idempotent, this.log);
    const transport = new KafkaTransport(this.producers, acks, kafkaCompressionType(cfg.compression));
    const common = {
      stage: SINK,
      logger: this.log,
      metrics: this.metrics,
      transport,
      retry: cfg.retry,
      timeoutMs: SEND_TIMEOUT_MS,
      sizeOf: kafkaRecordBytes,
      keyOf: (r: KafkaRecord) => r.topic,
      eventsOf: (r: KafkaRecord) => r.events,
    };
    this.records = new Exporter<KafkaRecord, Message[]>({
      ...common,
      queue: {
        maxItems: cfg.buffer.maxRecords,
        maxBytes: cfg.buffer.maxBytes,
        dropPolicy: cfg.buffer.dropPolicy,
        itemOverheadBytes: KAFKA_RECORD_OVERHEAD_BYTES,
      },
      batch: {
        maxItems: cfg.batch.maxRecords,
        maxBytes: cfg.batch.maxBytes,
        maxDelayMs: cfg.batch.maxDelayMs,
      },
      concurrency: cfg.maxInFlight,
      perKeyConcurrency: 1,
      reasons: KAFKA_REASONS,
      ...(cfg.queue.storage === 'disk'
        ? {
            durable: {
              dir: cfg.queue.dir,
              dirKey: 'sinks.kafka.queue.dir',
              maxBytes: cfg.queue.maxBytes,
              codec: kafkaRecordCodec(),
            },
          }
        : {}),
    });
    // Loss records have their own bound, so an outage that fills the event buffer keeps its account.
    this.losses = new Exporter<KafkaRecord, Message[]>({
      ...common,
      queue: { maxItems: MAX_PENDING_LOSS_RECORDS, maxBytes: Number.MAX_SAFE_INTEGER, dropPolicy: 'oldest' },
      batch: { maxItems: MAX_PENDING_LOSS_RECORDS, maxBytes: cfg.batch.maxBytes, maxDelayMs: 0 },
      concurrency: 1,
      perKeyConcurrency: 1,
      reasons: {
        ...KAFKA_REASONS,
        queueFull: 'loss_record_overflow',
        shutdownTimeout: 'loss_record_undelivered',
      },
      eventsOf: () => 1,
    });
    this.shutdownTimeoutMs = deps.shutdownTimeoutMs ?? DEFAULT_KAFKA_SHUTDOWN_TIMEOUT_MS;
  }

  /** The last event.seq assigned (events accepted so far). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Events accepted and not yet delivered or dropped. */
  get bufferedEvents(): number {
    return this.records.pendingEvents;
  }

  start(): Promise<void> {
    if (this.started || this.closing !== null) return Promise.resolve();
    this.started = true;
    this.records.start();
    this.losses.start();
    this.lossTimer = setInterval(() => void this.reportLoss(), this.cfg.lossReportSeconds * 1000);
    this.lossTimer.unref();
    this.log.info(
      {
        brokers: this.cfg.brokers,
        encodings: this.cfg.encodings,
        topicPrefix: this.cfg.topicPrefix,
        instanceId: this.instanceId,
        kafkajsOverrides,
      },
      'kafka sink started',
    );
    return Promise.resolve();
  }

  consume(batch: EventBatch): void {
    const events = batch.events;
    if (this.closing !== null) {
      this.metrics.drop(SINK, 'shutdown', events.length);
      return;
    }
    const node = this.deps.nodeName;
    const out: KafkaRecord[] = [];
    const json = this.json;
    if (json !== null) {
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        out.push({
          topic: this.topics[e.kind] ?? this.unknownTopic,
          key: this.keyOf(e),
          value: this.values.utf8(json.encode(e, ++this.seq)),
          events: 1,
        });
      }
    } else this.seq += events.length;
    const otlp = this.otlp;
    if (otlp !== null && events.length > 0) {
      const values = otlp(batch, this.cfg.otlpSpansPerRecord, this.cfg.maxRecordBytes);
      for (let j = 0; j < values.length; j++) {
        const v = values[j]!;
        out.push({
          topic: v.topic,
          key: node,
          value: v.value,
          headers: OTLP_HEADERS,
          // With json too, the events are counted by their json records; split records share the run.
          events: json === null ? v.events : 0,
        });
      }
    }
    this.records.offer(out);
  }

  /** Resolves once everything accepted so far was delivered (or dropped); immediately when not started. */
  async flush(): Promise<void> {
    if (!this.started || this.closing !== null) return;
    await Promise.all([this.records.flush(), this.losses.flush()]);
  }

  ready(): { ready: boolean; detail: string } {
    if (this.closing !== null) return { ready: false, detail: 'shut down' };
    if (!this.producers.connected)
      return { ready: false, detail: `not connected to ${this.cfg.brokers.join(',')}` };
    const down = this.records.unreachableSince ?? this.losses.unreachableSince;
    if (down !== null)
      return { ready: false, detail: `cluster unreachable since ${new Date(down).toISOString()}` };
    const failing = this.records.failing();
    const queued = `buffer ${this.records.queued}/${this.cfg.buffer.maxRecords}`;
    if (failing !== null)
      return {
        ready: true,
        detail: `${queued}; failing since ${new Date(failing.since).toISOString()}: ${failing.error}`,
      };
    return { ready: true, detail: queued };
  }

  /**
   * Delivers what it holds until `deadlineAt` (ms since the epoch; default now + the sink's
   * shutdown timeout), keeping the last share of the time for a final loss record that counts what
   * could not be delivered. Idempotent.
   */
  shutdown(deadlineAt?: number): Promise<void> {
    this.closing ??= this.close(deadlineAt ?? Date.now() + this.shutdownTimeoutMs);
    return this.closing;
  }

  private async close(deadlineAt: number): Promise<void> {
    if (this.lossTimer !== null) clearInterval(this.lossTimer);
    const reserve = Math.min(LOSS_RESERVE_MAX_MS, (deadlineAt - Date.now()) * LOSS_RESERVE_SHARE);
    this.undeliveredAtShutdown = await this.records.shutdown(
      this.started ? deadlineAt - reserve : Date.now(),
    );
    this.keptOnDisk = this.records.keptOnDisk;
    if (this.started) await this.reportLoss(true);
    await this.losses.shutdown(this.started ? deadlineAt : Date.now());
    if (this.undeliveredAtShutdown > 0)
      this.log.warn(
        { events: this.undeliveredAtShutdown, reason: 'shutdown' },
        'kafka sink shut down before it could deliver everything; counted as dropped',
      );
    await this.producers.close();
    this.log.info({ lastSeq: this.seq, instanceId: this.instanceId }, 'kafka sink stopped');
  }

  private async reportLoss(final = false): Promise<void> {
    try {
      const record = await this.lossReporter.next(this.seq);
      const value = encodeLossRecord(record);
      const r: KafkaRecord = {
        topic: this.lossTopic,
        key: this.deps.nodeName,
        value,
        headers: LOSS_HEADERS,
        events: 0,
      };
      if (final || this.closing === null) this.losses.offer([r]);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not build the loss record');
    }
  }
}

/** Creates the Kafka sink for a validated `sinks.kafka` section. Throws ConfigError (naming the key) for unusable settings. */
export function createKafkaSink(config: KafkaSinkConfig, deps: KafkaSinkDeps): KafkaSink {
  return new KafkaSink(config, deps);
}
