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
  /** The partitions its messages were assigned to; null: kafkajs's partitioner chooses (see chosen). */
  partitions: Map<string, Set<number>> | null;
}

/** Sends one PendingSend at a time, in order, for the partitions assigned to it. */
interface Lane {
  queue: PendingSend[];
  running: Promise<void> | null;
}

/** Sends a lane holds (one in flight, the rest encoded and waiting) before the sink stops taking chunks. */
const MAX_QUEUED_PER_LANE = 2;
/** Keys whose partition is remembered per topic (pod uids, container ids; cleared past this). */
const MAX_CACHED_KEYS = 65536;

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
 * `batch.maxDelayMs`), encodes them and splits them over `maxInFlight` lanes. Every partition
 * belongs to one lane and a lane has one `sendBatch` in flight at a time, retried with backoff until
 * it succeeds, so sends in flight together never share a partition: per-partition (so per-key)
 * order holds, the idempotent producer's per-partition sequence numbers stay consistent, and an
 * outage shorter than the buffer loses nothing.
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
  /** A send whose partitions kafkajs chooses (topic metadata not known yet): goes alone, all lanes idle. */
  private pending: PendingSend | null = null;
  private readonly lanes: Lane[];
  /** Per topic: partition → lane. A partition never changes lane, so its sends never overlap. */
  private readonly laneOfPartition = new Map<string, number[]>();
  private nextLane = 0;
  /** Per topic: record key → partition, as kafkajs's default partitioner picks it. */
  private readonly keyPartition = new Map<string, Map<string, number>>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
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
    this.lanes = Array.from({ length: cfg.maxInFlight }, () => ({ queue: [], running: null }));
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
    let n = this.buffer.length + (this.pending?.events ?? 0);
    for (const lane of this.lanes) for (const p of lane.queue) n += p.events;
    return n;
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
    for (const lane of this.lanes) if (lane.running !== null) await lane.running;
    this.metrics.queueDepth.set({ queue: SINK }, 0);
    this.log.info({ lastSeq: this.seq }, 'kafka sink stopped');
  });

  /**
   * Takes chunks from the buffer and hands them to the lanes. A chunk is split by lane (each
   * partition belongs to one lane); a lane sends its part after its previous sends, so the records
   * of a partition reach it in the order they were accepted, with at most `maxInFlight` sends in
   * flight over disjoint partitions. Until a topic's partitions are known (first send) the chunk
   * goes out alone, with every lane idle, and kafkajs picks the partitions.
   */
  private async run(): Promise<void> {
    const linger = this.cfg.batch.maxDelayMs;
    let lingerUntil = 0;
    while (!this.stop.signal.aborted) {
      if (this.buffer.length === 0 && this.lossRecords.length === 0) {
        if (this.lanesIdle()) {
          for (const resolve of this.flushWaiters.splice(0)) resolve();
          if (this.stopping) return;
        }
        await this.waitFor(1); // new events, a loss record, shutdown or a lane finishing wake us
        continue;
      }
      if (this.lanes.some((lane) => lane.queue.length >= MAX_QUEUED_PER_LANE)) {
        await this.waitFor(Infinity);
        continue;
      }
      if (
        !this.stopping &&
        linger > 0 &&
        this.flushWaiters.length === 0 &&
        this.buffer.length < this.cfg.batch.maxRecords
      ) {
        const now = performance.now();
        if (lingerUntil === 0) lingerUntil = now + linger;
        if (now < lingerUntil) {
          await this.waitFor(this.cfg.batch.maxRecords, lingerUntil - now);
          continue;
        }
      }
      lingerUntil = 0;
      if (this.stop.signal.aborted) return;
      const sends = this.encodeNext();
      if (sends === null) continue;
      if (!Array.isArray(sends)) {
        // Unknown partitions: wait until no lane sends, then send alone.
        while (!this.lanesIdle() && !this.stop.signal.aborted) await this.waitFor(Infinity);
        this.pending = sends;
        await this.deliver(sends);
        if (this.stop.signal.aborted) return;
        this.pending = null;
        continue;
      }
      for (let i = 0; i < sends.length; i++) {
        const p = sends[i];
        if (p === undefined) continue;
        const lane = this.lanes[i]!;
        lane.queue.push(p);
        this.pump(lane);
      }
    }
  }

  private lanesIdle(): boolean {
    for (const lane of this.lanes) if (lane.queue.length > 0) return false;
    return true;
  }

  /** Starts the lane's next send unless one is in flight. */
  private pump(lane: Lane): void {
    if (lane.running !== null) return;
    const p = lane.queue[0];
    if (p === undefined) return;
    lane.running = this.deliver(p).then(
      () => this.laneDone(lane),
      (err: unknown) => {
        // deliver() handles every Kafka failure itself; reaching here is a bug, not an outage.
        this.log.error({ err: errorMessage(err) }, 'kafka send lane failed');
        this.laneDone(lane);
      },
    );
  }

  private laneDone(lane: Lane): void {
    lane.running = null;
    if (this.stop.signal.aborted) return;
    lane.queue.shift();
    this.pump(lane);
    this.wake();
  }

  /** Sends until the cluster took it (retrying retriable failures with backoff), it is rejected (dropped, counted) or the sink is aborted. */
  private async deliver(p: PendingSend): Promise<void> {
    let backoff = INITIAL_BACKOFF_MS;
    while (!this.stop.signal.aborted) {
      try {
        await this.send(p);
        return;
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
          const events = p.events;
          p.topicMessages = [];
          p.records = 0;
          p.events = 0;
          this.metrics.sinkFailed.inc({ sink: SINK, reason: kafkaFailureReason(err) });
          this.metrics.drop(SINK, 'rejected', events);
          this.log.error({ err: e.message, events }, 'kafka rejected a batch; dropped it');
          return;
        }
      }
    }
  }

  private async send(p: PendingSend): Promise<void> {
    const producer = await this.connect();
    const t0 = performance.now();
    if (p.partitions === null) this.chosen.clear();
    const results = await producer.sendBatch({
      topicMessages: p.topicMessages,
      acks: this.acks,
      compression: this.compression,
    });
    this.metrics.sinkExportLatency.observe({ sink: SINK }, (performance.now() - t0) / 1000);
    const delivered = p.records;
    if (this.acks !== 0) this.confirm(p, results, p.partitions ?? this.chosen);
    else {
      p.topicMessages = [];
      p.records = 0;
      p.events = 0;
    }
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
  private confirm(p: PendingSend, results: RecordMetadata[], chosen: Map<string, Set<number>>): void {
    const acked = new Map<string, Set<number>>();
    for (const r of results) {
      if (r.errorCode !== 0) continue;
      let set = acked.get(r.topicName);
      if (set === undefined) acked.set(r.topicName, (set = new Set()));
      set.add(r.partition);
    }
    let complete = true;
    for (const [topic, partitions] of chosen) {
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
    const partitioner = this.partitioner;
    const left: TopicMessages[] = [];
    let records = 0;
    let events = 0;
    for (const tm of p.topicMessages) {
      const got = acked.get(tm.topic);
      const partitionMetadata = this.partitionMeta.get(tm.topic);
      const missing = tm.messages.filter((message) => {
        if (typeof message.partition === 'number') return got === undefined || !got.has(message.partition);
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
          const given = args.message.partition;
          if (typeof given === 'number') {
            // Assigned by partitionOf(); a changed partition count re-maps the keys from the next chunk on.
            if (this.partitionMeta.get(args.topic)?.length !== args.partitionMetadata.length) {
              this.partitionMeta.set(args.topic, args.partitionMetadata);
              this.keyPartition.delete(args.topic);
            }
            return given;
          }
          const n = partition(args);
          let set = this.chosen.get(args.topic);
          if (set === undefined) {
            this.chosen.set(args.topic, (set = new Set()));
            if (this.partitionMeta.get(args.topic)?.length !== args.partitionMetadata.length)
              this.keyPartition.delete(args.topic);
            this.partitionMeta.set(args.topic, args.partitionMetadata);
          }
          set.add(n);
          return n;
        };
      },
      metadataMaxAge: 60000,
    });
  }

  /**
   * Takes the next chunk from the buffer and encodes it, with the loss records waiting: one send per
   * lane (index = lane, undefined where a lane gets nothing), or a single send with partitions left
   * to kafkajs while some topic's partitions are not known yet. Null when there was nothing to send.
   */
  private encodeNext(): (PendingSend | undefined)[] | PendingSend | null {
    const { events, seqs } = this.buffer.drain(this.cfg.batch.maxRecords);
    this.metrics.queueDepth.set({ queue: SINK }, this.buffer.length);
    const messages: { topic: string; message: Message; events: number }[] = [];
    const node = this.deps.nodeName;
    for (const value of this.lossRecords)
      messages.push({
        topic: this.lossTopic,
        message: { key: node, value, headers: LOSS_HEADERS },
        events: 0,
      });
    this.lossRecords = [];
    const json = this.json;
    if (json !== null) {
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        messages.push({
          topic: this.topics[e.kind] ?? this.unknownTopic,
          message: { key: kafkaRecordKey(e, node), value: json.encode(e, seqs[i]!), headers: JSON_HEADERS },
          events: 1,
        });
      }
    }
    const otlp = this.otlp;
    if (otlp !== null && events.length > 0) {
      const per = this.cfg.otlpSpansPerRecord;
      for (let i = 0; i < events.length; i += per) {
        const slice = events.slice(i, i + per);
        const bytes = otlp(slice);
        if (bytes === null) continue;
        messages.push({
          topic: this.cfg.otlpTopic,
          message: {
            key: node,
            value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
            headers: OTLP_HEADERS,
          },
          // With json too, the events are counted by their json records.
          events: json === null ? slice.length : 0,
        });
      }
    }
    if (messages.length === 0) return null;

    let known = true;
    for (const m of messages) {
      const n = this.partitionOf(m.topic, m.message);
      if (n === null) {
        known = false;
        break;
      }
      m.message.partition = n;
    }
    if (!known) {
      for (const m of messages) delete m.message.partition;
      return group(messages, events.length);
    }
    const perLane: (typeof messages)[] = [];
    for (const m of messages) {
      const lane = this.laneOf(m.topic, m.message.partition!);
      (perLane[lane] ??= []).push(m);
    }
    const sends: (PendingSend | undefined)[] = new Array<PendingSend | undefined>(this.lanes.length);
    for (let i = 0; i < perLane.length; i++) {
      const list = perLane[i];
      if (list === undefined) continue;
      let laneEvents = 0;
      for (const m of list) laneEvents += m.events;
      const send = group(list, laneEvents);
      send.partitions = new Map();
      for (const m of list) {
        let set = send.partitions.get(m.topic);
        if (set === undefined) send.partitions.set(m.topic, (set = new Set()));
        set.add(m.message.partition!);
      }
      sends[i] = send;
    }
    return sends;
  }

  /** The partition kafkajs's default partitioner picks for a keyed message, cached per key; null while the topic's partitions are unknown. */
  private partitionOf(topic: string, message: Message): number | null {
    const partitionMetadata = this.partitionMeta.get(topic);
    if (partitionMetadata === undefined || partitionMetadata.length === 0) return null;
    const key = message.key;
    if (typeof key !== 'string') return null;
    let cache = this.keyPartition.get(topic);
    if (cache === undefined) this.keyPartition.set(topic, (cache = new Map<string, number>()));
    let n = cache.get(key);
    if (n === undefined) {
      if (cache.size >= MAX_CACHED_KEYS) cache.clear();
      n = this.partitioner({ topic, partitionMetadata, message });
      cache.set(key, n);
    }
    return n;
  }

  /** The lane a partition belongs to: assigned round-robin the first time it is seen, then fixed. */
  private laneOf(topic: string, partition: number): number {
    let lanes = this.laneOfPartition.get(topic);
    if (lanes === undefined) this.laneOfPartition.set(topic, (lanes = []));
    let lane = lanes[partition];
    if (lane === undefined) {
      lane = this.nextLane;
      this.nextLane = (this.nextLane + 1) % this.lanes.length;
      lanes[partition] = lane;
    }
    return lane;
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

/** Groups messages by topic into one send. */
function group(messages: readonly { topic: string; message: Message }[], events: number): PendingSend {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of messages) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [message]);
    else list.push(message);
  }
  const topicMessages: TopicMessages[] = [];
  for (const [topic, list] of byTopic) topicMessages.push({ topic, messages: list });
  return { topicMessages, events, records: messages.length, partitions: null };
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
