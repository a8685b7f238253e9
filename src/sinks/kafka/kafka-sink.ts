import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CompressionTypes as CompressionTypesT,
  Message,
  PartitionMetadata,
  PartitionerArgs,
  Producer,
  RecordMetadata,
  TopicMessages,
} from 'kafkajs';
import { CompressionTypes, Kafka, Partitioners } from 'kafkajs';
import type { ReadinessProbe } from '../../core/component';
import { onceShutdown } from '../../core/component';
import { RetryableError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { EventBatch } from '../../events/event';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import { kafkaClientOptions } from './kafka-client-options';
import type { KafkaSinkConfig } from './kafka-config';
import { classifyKafkaError, kafkaFailureReason } from './kafka-errors';
import { KAFKA_JSON_SCHEMA_VERSION, KafkaJsonEncoder } from './kafka-json-encoder';
import type { LossSource } from './kafka-loss-report';
import { LossReporter, encodeLossRecord } from './kafka-loss-report';
import type { OtlpRecordEncoder } from './kafka-otlp-encoder';
import { createOtlpRecordEncoder } from './kafka-otlp-encoder';
import { kafkaRecordKey } from './kafka-record-key';
import { LOSS_TOPIC_GROUP, topicForGroup, topicsByKind } from './kafka-topics';
import { SequencedBuffer } from './sequenced-buffer';

const SINK = 'kafka';
const SCHEMA_HEADER = 'podtrace-schema';
const JSON_HEADERS = Object.freeze({
  'content-type': 'application/json',
  [SCHEMA_HEADER]: String(KAFKA_JSON_SCHEMA_VERSION),
});
const LOSS_HEADERS = Object.freeze({ ...JSON_HEADERS, 'podtrace-record': 'loss' });
const OTLP_HEADERS = Object.freeze({
  'content-type': 'application/x-protobuf',
  [SCHEMA_HEADER]: String(KAFKA_JSON_SCHEMA_VERSION),
});
const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** Loss records waiting for the cluster; at the default 10 s interval an hour of outage. */
const MAX_PENDING_LOSS_RECORDS = 360;
export const DEFAULT_KAFKA_SHUTDOWN_TIMEOUT_MS = 10000;

export interface KafkaSinkDeps {
  logger: Logger;
  metrics: Metrics;
  nodeName: string;
  env?: NodeJS.ProcessEnv;
  /** Cumulative kernel ring-buffer losses by kind; default: Metrics.kernelLost. */
  lossSource?: LossSource;
  /** How long shutdown() may take to flush the buffer. */
  shutdownTimeoutMs?: number;
  /** `process.command_args` redaction patterns (see events/redact.ts). */
  redact?: readonly string[];
  /** Encodes events as one ExportTraceServiceRequest; default: the shared span mapping (src/sinks/spans). */
  otlpEncoder?: OtlpRecordEncoder;
  /** For the span ids of `otlp_proto` (default: /proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** `host.name` of `otlp_proto` resources (default: os.hostname()). */
  hostName?: string;
}

/** One sendBatch call's worth of records, kept (and re-sent) until the cluster took it. */
interface PendingSend {
  topicMessages: TopicMessages[];
  events: number;
  records: number;
}

interface Waiter {
  resolve: () => void;
  /** Wake when the buffer holds at least this many events (or loss records wait, or shutdown). */
  minEvents: number;
}

/**
 * Writes events to Kafka with kafkajs: `json` records per event on `<prefix><group>` topics and/or
 * `otlp_proto` ExportTraceServiceRequest records on the OTLP topic, plus a loss record every
 * `lossReportSeconds`. `consume()` only appends to a bounded buffer (full → drop oldest/newest,
 * counted); one background loop takes up to `batch.maxRecords` events (or what came within
 * `batch.maxDelayMs`), encodes them and sends them in one `sendBatch`, retrying retriable failures
 * with backoff until they succeed, so per-key order holds and an outage shorter than the buffer
 * loses nothing.
 */
export class KafkaSink implements Sink, ReadinessProbe {
  readonly name = SINK;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly buffer: SequencedBuffer;
  private readonly json: KafkaJsonEncoder | null;
  private readonly otlp: OtlpRecordEncoder | null;
  private readonly topics: readonly string[];
  private readonly unknownTopic: string;
  private readonly lossTopic: string;
  private readonly lossReporter: LossReporter;
  private readonly kafka: Kafka;
  private readonly acks: number;
  private readonly compression: CompressionTypesT;
  private readonly shutdownTimeoutMs: number;
  private readonly stop = new AbortController();
  private idempotent: boolean;
  private producer: Producer | null = null;
  private connected = false;
  private seq = 0;
  private pending: PendingSend | null = null;
  private lossRecords: string[] = [];
  private waiter: Waiter | null = null;
  private flushWaiters: (() => void)[] = [];
  /** Partitions kafkajs's partitioner chose during the current send, and the metadata it chose from (see confirm()). */
  private readonly chosen = new Map<string, Set<number>>();
  private readonly partitionMeta = new Map<string, PartitionMetadata[]>();
  private loop: Promise<void> | null = null;
  private lossTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private stopping = false;
  private outageSince = 0;

  constructor(
    private readonly cfg: KafkaSinkConfig,
    private readonly deps: KafkaSinkDeps,
  ) {
    this.log = deps.logger.child({ component: SINK });
    this.metrics = deps.metrics;
    this.buffer = new SequencedBuffer(cfg.buffer.maxRecords, cfg.buffer.dropPolicy);
    this.json = cfg.encodings.includes('json') ? new KafkaJsonEncoder(deps.nodeName, deps.redact) : null;
    this.otlp = cfg.encodings.includes('otlp_proto')
      ? (deps.otlpEncoder ??
        createOtlpRecordEncoder({
          nodeName: deps.nodeName,
          logger: this.log,
          env: deps.env ?? process.env,
          bootId: deps.bootId,
          hostName: deps.hostName,
          redact: deps.redact,
        }))
      : null;
    this.topics = topicsByKind(cfg.topicPrefix, cfg.topics);
    this.unknownTopic = topicForGroup('unknown', cfg.topicPrefix, cfg.topics);
    this.lossTopic = topicForGroup(LOSS_TOPIC_GROUP, cfg.topicPrefix, cfg.topics);
    this.lossReporter = new LossReporter(deps.metrics, deps.nodeName, deps.lossSource);
    this.kafka = new Kafka(kafkaClientOptions(cfg, { logger: deps.logger, env: deps.env ?? process.env }));
    this.acks = cfg.acks === 'all' ? -1 : cfg.acks;
    this.compression = cfg.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.shutdownTimeoutMs = deps.shutdownTimeoutMs ?? DEFAULT_KAFKA_SHUTDOWN_TIMEOUT_MS;
    this.idempotent = cfg.idempotent && this.acks === -1;
    if (cfg.idempotent && !this.idempotent)
      this.log.info({ acks: cfg.acks }, 'idempotent producer needs acks: all; producing without idempotence');
  }

  /** The last event.seq assigned (events accepted so far). */
  get lastSeq(): number {
    return this.seq;
  }

  get bufferedEvents(): number {
    return this.buffer.length + (this.pending?.events ?? 0);
  }

  start(): Promise<void> {
    if (this.loop !== null || this.closed) return Promise.resolve();
    this.loop = this.run().catch((err: unknown) => {
      // The loop handles every Kafka failure itself; reaching here is a bug, not an outage.
      this.log.error({ err: errorMessage(err) }, 'kafka sink loop stopped');
    });
    this.lossTimer = setInterval(() => void this.reportLoss(), this.cfg.lossReportSeconds * 1000);
    this.lossTimer.unref();
    this.log.info(
      { brokers: this.cfg.brokers, encodings: this.cfg.encodings, topicPrefix: this.cfg.topicPrefix },
      'kafka sink started',
    );
    return Promise.resolve();
  }

  consume(batch: EventBatch): void {
    const events = batch.events;
    if (this.closed) {
      this.metrics.drop(SINK, 'shutdown', events.length);
      return;
    }
    let dropped = 0;
    for (let i = 0; i < events.length; i++) dropped += this.buffer.push(events[i]!, ++this.seq);
    if (dropped > 0) this.metrics.drop(SINK, 'buffer_full', dropped);
    this.metrics.queueDepth.set({ queue: SINK }, this.buffer.length);
    if (this.waiter !== null && this.buffer.length >= this.waiter.minEvents) this.wake();
  }

  /** Resolves once everything accepted so far was delivered (or dropped); immediately when not started. */
  flush(): Promise<void> {
    if (this.loop === null || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.wake();
    });
  }

  ready(): { ready: boolean; detail: string } {
    if (this.closed) return { ready: false, detail: 'shut down' };
    if (!this.connected) return { ready: false, detail: `not connected to ${this.cfg.brokers.join(',')}` };
    if (this.outageSince > 0)
      return {
        ready: false,
        detail: `cluster unreachable since ${new Date(this.outageSince).toISOString()}`,
      };
    return { ready: true, detail: `buffer ${this.buffer.length}/${this.buffer.capacity}` };
  }

  readonly shutdown = onceShutdown(async () => {
    this.closed = true;
    if (this.lossTimer !== null) clearInterval(this.lossTimer);
    if (this.loop !== null) {
      await this.reportLoss();
      this.stopping = true;
      this.wake();
      const deadline = sleep(this.shutdownTimeoutMs, false, { ref: false });
      const flushed = await Promise.race([this.loop.then(() => true), deadline]);
      if (!flushed) this.stop.abort();
    }
    const left = this.bufferedEvents;
    if (left > 0) {
      this.metrics.drop(SINK, 'shutdown', left);
      this.log.warn({ events: left }, 'kafka sink shut down before it could deliver everything');
    }
    this.stop.abort();
    this.wake();
    for (const resolve of this.flushWaiters.splice(0)) resolve();
    const producer = this.producer;
    this.producer = null;
    this.connected = false;
    if (producer !== null) await producer.disconnect().catch(() => undefined);
    if (this.loop !== null) await this.loop;
    this.metrics.queueDepth.set({ queue: SINK }, 0);
    this.log.info({ lastSeq: this.seq }, 'kafka sink stopped');
  });

  private async run(): Promise<void> {
    let backoff = INITIAL_BACKOFF_MS;
    while (!this.stop.signal.aborted) {
      if (this.pending === null) {
        if (this.buffer.length === 0 && this.lossRecords.length === 0) {
          for (const resolve of this.flushWaiters.splice(0)) resolve();
          if (this.stopping) return;
          await this.waitFor(1);
          continue;
        }
        const linger = this.cfg.batch.maxDelayMs;
        if (
          !this.stopping &&
          linger > 0 &&
          this.flushWaiters.length === 0 &&
          this.buffer.length < this.cfg.batch.maxRecords
        )
          await this.waitFor(this.cfg.batch.maxRecords, linger);
        if (this.stop.signal.aborted) return;
        this.pending = this.encodeNext();
      }
      try {
        await this.send(this.pending);
        this.pending = null;
        backoff = INITIAL_BACKOFF_MS;
      } catch (err) {
        if (this.stop.signal.aborted) return;
        const e = classifyKafkaError(err);
        if (e.retriable) {
          this.metrics.sinkRetried.inc({ sink: SINK });
          if (this.outageSince === 0) {
            this.outageSince = Date.now();
            this.log.warn(
              { err: e.message, buffered: this.bufferedEvents },
              'kafka send failed; buffering and retrying',
            );
          }
          await sleep(backoff * (0.5 + Math.random() / 2), undefined, { signal: this.stop.signal }).catch(
            () => undefined,
          );
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        } else {
          const pending = this.pending;
          this.pending = null;
          this.metrics.sinkFailed.inc({ sink: SINK, reason: kafkaFailureReason(err) });
          if (pending !== null) this.metrics.drop(SINK, 'rejected', pending.events);
          this.log.error(
            { err: e.message, events: pending?.events ?? 0 },
            'kafka rejected a batch; dropped it',
          );
        }
      }
    }
  }

  private async send(p: PendingSend): Promise<void> {
    const producer = await this.connect();
    const t0 = performance.now();
    this.chosen.clear();
    const results = await producer.sendBatch({
      topicMessages: p.topicMessages,
      acks: this.acks,
      compression: this.compression,
    });
    this.metrics.sinkExportLatency.observe({ sink: SINK }, (performance.now() - t0) / 1000);
    const delivered = p.records;
    if (this.acks !== 0) this.confirm(p, results);
    this.metrics.sinkExported.inc({ sink: SINK }, delivered - p.records);
    if (p.records > 0)
      throw new RetryableError(
        `kafkajs reported success but no broker acknowledged ${p.records} records; re-sending them`,
      );
    if (this.outageSince > 0) {
      this.log.info(
        { downForMs: Date.now() - this.outageSince, buffered: this.bufferedEvents },
        'kafka cluster reachable again',
      );
      this.outageSince = 0;
    }
  }

  /** Connects (once) the producer; falls back to a plain producer when the cluster cannot serve an idempotent one. */
  private async connect(): Promise<Producer> {
    if (this.producer !== null && this.connected) return this.producer;
    this.producer ??= this.newProducer();
    try {
      await this.producer.connect();
    } catch (err) {
      if (this.idempotent && idempotenceUnsupported(err)) {
        this.log.warn(
          { err: errorMessage(err) },
          'the cluster cannot serve an idempotent producer (no controller / InitProducerId); producing without idempotence',
        );
        this.idempotent = false;
        await this.producer.disconnect().catch(() => undefined);
        this.producer = this.newProducer();
        await this.producer.connect();
      } else throw err;
    }
    this.connected = true;
    return this.producer;
  }

  /**
   * Keeps in `p` only the messages whose partition has no acknowledgement in `results`. kafkajs 2.2
   * can resolve sendBatch without sending some messages: after a partial failure it re-sends only to
   * brokers that have not answered yet, so partitions whose leader moved to a broker that already
   * answered are skipped silently. The messages of those partitions are sent again.
   */
  private confirm(p: PendingSend, results: RecordMetadata[]): void {
    const acked = new Map<string, Set<number>>();
    for (const r of results) {
      if (r.errorCode !== 0) continue;
      let set = acked.get(r.topicName);
      if (set === undefined) acked.set(r.topicName, (set = new Set()));
      set.add(r.partition);
    }
    let complete = true;
    for (const [topic, partitions] of this.chosen) {
      const got = acked.get(topic);
      for (const n of partitions) if (got === undefined || !got.has(n)) complete = false;
    }
    if (complete) {
      p.topicMessages = [];
      p.records = 0;
      p.events = 0;
      return;
    }
    // Rare path: find the messages of unacknowledged partitions (keyed, so the partitioner is deterministic).
    const partitioner = Partitioners.DefaultPartitioner();
    const left: TopicMessages[] = [];
    let records = 0;
    let events = 0;
    for (const tm of p.topicMessages) {
      const got = acked.get(tm.topic);
      const partitionMetadata = this.partitionMeta.get(tm.topic);
      const missing = tm.messages.filter((message) => {
        if (
          got === undefined ||
          partitionMetadata === undefined ||
          message.key === null ||
          message.key === undefined
        )
          return true;
        return !got.has(partitioner({ topic: tm.topic, partitionMetadata, message }));
      });
      if (missing.length === 0) continue;
      left.push({ topic: tm.topic, messages: missing });
      records += missing.length;
      if (tm.topic !== this.cfg.otlpTopic && tm.topic !== this.lossTopic) events += missing.length;
    }
    p.topicMessages = left;
    p.records = records;
    p.events = this.json !== null ? events : records > 0 ? p.events : 0;
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: this.idempotent,
      ...(this.idempotent ? { maxInFlightRequests: 1 } : {}),
      allowAutoTopicCreation: true,
      createPartitioner: () => {
        const partition = Partitioners.DefaultPartitioner();
        return (args: PartitionerArgs): number => {
          const n = partition(args);
          let set = this.chosen.get(args.topic);
          if (set === undefined) {
            this.chosen.set(args.topic, (set = new Set()));
            this.partitionMeta.set(args.topic, args.partitionMetadata);
          }
          set.add(n);
          return n;
        };
      },
      metadataMaxAge: 60000,
    });
  }

  /** Takes the next chunk from the buffer and encodes it, with the loss records waiting. */
  private encodeNext(): PendingSend {
    const { events, seqs } = this.buffer.drain(this.cfg.batch.maxRecords);
    this.metrics.queueDepth.set({ queue: SINK }, this.buffer.length);
    const byTopic = new Map<string, Message[]>();
    const add = (topic: string, m: Message): void => {
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [m]);
      else list.push(m);
    };
    let records = 0;
    if (this.lossRecords.length > 0) {
      for (const value of this.lossRecords)
        add(this.lossTopic, { key: this.deps.nodeName, value, headers: LOSS_HEADERS });
      records += this.lossRecords.length;
      this.lossRecords = [];
    }
    const json = this.json;
    if (json !== null) {
      const node = this.deps.nodeName;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        add(this.topics[e.kind] ?? this.unknownTopic, {
          key: kafkaRecordKey(e, node),
          value: json.encode(e, seqs[i]!),
          headers: JSON_HEADERS,
        });
      }
      records += events.length;
    }
    const otlp = this.otlp;
    if (otlp !== null && events.length > 0) {
      const per = this.cfg.otlpSpansPerRecord;
      for (let i = 0; i < events.length; i += per) {
        const bytes = otlp(events.slice(i, i + per));
        if (bytes === null) continue;
        add(this.cfg.otlpTopic, {
          key: this.deps.nodeName,
          value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          headers: OTLP_HEADERS,
        });
        records++;
      }
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    return { topicMessages, events: events.length, records };
  }

  private async reportLoss(): Promise<void> {
    try {
      const record = await this.lossReporter.next(this.seq);
      if (this.lossRecords.length >= MAX_PENDING_LOSS_RECORDS) {
        this.lossRecords.shift();
        this.metrics.drop(SINK, 'loss_record_overflow', 1);
      }
      this.lossRecords.push(encodeLossRecord(record));
      if (this.waiter !== null) this.wake();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'could not build the loss record');
    }
  }

  /** Waits until the buffer holds `minEvents`, a loss record or shutdown arrives, or `timeoutMs` passes. */
  private async waitFor(minEvents: number, timeoutMs?: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? null : setTimeout(() => this.wake(), timeoutMs);
      this.waiter = {
        minEvents,
        resolve: () => {
          if (timer !== null) clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.resolve();
  }
}

/** A reachable cluster that cannot give an idempotent producer its id (no known controller, old or restricted broker). */
function idempotenceUnsupported(err: unknown): boolean {
  for (let cur: unknown = err, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const e = cur as { name?: unknown; type?: unknown; cause?: unknown };
    if (e.name === 'KafkaJSBrokerNotFound') return true;
    if (e.type === 'UNSUPPORTED_VERSION' || e.type === 'CLUSTER_AUTHORIZATION_FAILED') return true;
    if (e.cause === cur) break;
    cur = e.cause;
  }
  return false;
}

/** Creates the Kafka sink for a validated `sinks.kafka` section. Throws ConfigError (naming the key) for unusable settings. */
export function createKafkaSink(config: KafkaSinkConfig, deps: KafkaSinkDeps): KafkaSink {
  return new KafkaSink(config, deps);
}
