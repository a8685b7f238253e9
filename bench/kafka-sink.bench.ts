import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Through podtrace's kafkajs module (its overrides; PODTRACE_KAFKAJS_OVERRIDES=off for kafkajs's own).
import {
  CompressionTypes,
  Kafka,
  Partitioners,
  kafkajsOverrides,
  logLevel,
} from '../src/sinks/kafka/kafkajs';
import type { TopicMessages } from 'kafkajs';
import { validateConfig } from '../src/config/load-config';
import { silentLogger } from '../src/core/logger';
import type { PodtraceEvent } from '../src/events/event';
import { EVENT_GROUPS } from '../src/events/event-kind';
import type { KafkaEncoding } from '../src/sinks/kafka/kafka-config';
import { KafkaJsonEncoder } from '../src/sinks/kafka/kafka-json-encoder';
import { kafkaRecordKeys } from '../src/sinks/kafka/kafka-record-key';
import { createKafkaSink } from '../src/sinks/kafka/kafka-sink';
import { Metrics } from '../src/telemetry/metrics';
import { NODE_NAME, makeEvents } from '../test/helpers/kafka-events';
import { KafkaMock, kafkaMockMissing } from '../test/helpers/kafka-mock';

export interface KafkaSinkBenchOptions {
  /** Events per run (default 60,000). */
  events?: number;
  /** Events per sendBatch (default 2,000). */
  batchRecords?: number;
  compression?: 'none' | 'gzip';
  encodings?: KafkaEncoding[];
}

export interface KafkaSinkBenchRow {
  case: string;
  records: number;
  recordsPerSec: number;
  /** CPU of this (Node) process per record, µs; the mock cluster runs in its own process. */
  cpuUsPerRecord: number;
}

const TOPICS = ['podtrace.process', 'podtrace.tcp', 'podtrace.oom', 'podtrace.loss', 'otlp_spans'];

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function measure(name: string, records: number, run: () => Promise<void>): Promise<KafkaSinkBenchRow> {
  const c0 = cpuUs();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  return {
    case: name,
    records,
    recordsPerSec: Math.round(records / seconds),
    cpuUsPerRecord: Number(((cpuUs() - c0) / records).toFixed(2)),
  };
}

/** The sink end to end: consume() in pipeline-sized batches, then shutdown() (which flushes). */
async function sinkRun(
  brokers: string[],
  events: PodtraceEvent[],
  encoding: KafkaEncoding,
  opts: Required<KafkaSinkBenchOptions>,
): Promise<KafkaSinkBenchRow> {
  const cfg = validateConfig({
    sinks: {
      kafka: {
        enabled: true,
        brokers,
        encodings: [encoding],
        compression: opts.compression,
        batch: { maxRecords: opts.batchRecords, maxDelayMs: 5 },
        buffer: { maxRecords: events.length + 1 },
        // BENCH_QUEUE_STORAGE=disk: the same run through the disk queue (its cost, BENCHMARKS.md).
        ...(process.env.BENCH_QUEUE_STORAGE === 'disk'
          ? { queue: { storage: 'disk', dir: mkdtempSync(join(tmpdir(), 'podtrace-bench-dq-')) } }
          : {}),
        lossReportSeconds: 3600,
      },
    },
  }).sinks.kafka;
  const metrics = new Metrics();
  const sink = createKafkaSink(cfg, {
    logger: silentLogger(),
    metrics,
    nodeName: NODE_NAME,
    shutdownTimeoutMs: 600000,
  });
  await sink.start();
  // Warm-up: connect and load metadata outside the measurement.
  sink.consume({ events: events.slice(0, 100) });
  await sink.flush();
  const row = await measure(`sink ${encoding}`, events.length, async () => {
    for (let i = 0; i < events.length; i += 1000) sink.consume({ events: events.slice(i, i + 1000) });
    await sink.shutdown();
  });
  if ((await metrics.droppedCount()) > 0) throw new Error(`bench sink ${encoding} dropped events`);
  return row;
}

/** kafkajs alone: the same records pre-encoded, sent with sendBatch in chunks of `batchRecords`. */
async function rawRun(
  brokers: string[],
  events: PodtraceEvent[],
  opts: Required<KafkaSinkBenchOptions>,
): Promise<KafkaSinkBenchRow> {
  const enc = new KafkaJsonEncoder(NODE_NAME);
  const keyOf = kafkaRecordKeys(NODE_NAME);
  const headers = { 'content-type': 'application/json', 'podtrace-schema': '1' };
  const chunks: TopicMessages[][] = [];
  for (let i = 0; i < events.length; i += opts.batchRecords) {
    const byTopic = new Map<string, TopicMessages>();
    events.slice(i, i + opts.batchRecords).forEach((e, j) => {
      const topic = `podtrace.${EVENT_GROUPS[e.kind]}`;
      let tm = byTopic.get(topic);
      if (tm === undefined) byTopic.set(topic, (tm = { topic, messages: [] }));
      tm.messages.push({ key: keyOf(e), value: enc.encode(e, i + j + 1), headers });
    });
    chunks.push([...byTopic.values()]);
  }
  const producer = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  await producer.sendBatch({
    topicMessages: chunks[0]!.map((t) => ({ topic: t.topic, messages: t.messages.slice(0, 10) })),
    acks: -1,
  });
  const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const row = await measure('raw kafkajs sendBatch (pre-encoded json)', events.length, async () => {
    for (const topicMessages of chunks) await producer.sendBatch({ topicMessages, acks: -1, compression });
  });
  await producer.disconnect();
  return row;
}

/** JSON encoding alone (no Kafka): the sink's per-record CPU on top of kafkajs. */
async function encodeRun(events: PodtraceEvent[]): Promise<KafkaSinkBenchRow> {
  const enc = new KafkaJsonEncoder(NODE_NAME);
  let bytes = 0;
  const row = await measure('json encode only', events.length, () => {
    for (let i = 0; i < events.length; i++) bytes += enc.encode(events[i]!, i + 1).length;
    return Promise.resolve();
  });
  if (bytes === 0) throw new Error('nothing encoded');
  return row;
}

/** Records/s of the Kafka sink per encoding next to raw kafkajs sendBatch, against the librdkafka mock cluster. */
export async function benchKafkaSink(options: KafkaSinkBenchOptions = {}): Promise<KafkaSinkBenchRow[]> {
  const opts: Required<KafkaSinkBenchOptions> = {
    events: options.events ?? 60000,
    batchRecords: options.batchRecords ?? 2000,
    compression: options.compression ?? 'gzip',
    encodings: options.encodings ?? ['json'],
  };
  const missing = kafkaMockMissing();
  if (missing !== null) throw new Error(missing);
  const events = makeEvents(opts.events);
  const rows: KafkaSinkBenchRow[] = [await encodeRun(events)];
  for (const encoding of opts.encodings) {
    const mock = await KafkaMock.start({ topics: TOPICS.map((t) => `${t}:3:3`) });
    try {
      rows.push(await sinkRun(mock.brokers, events, encoding, opts));
    } finally {
      await mock.stop();
    }
  }
  const mock = await KafkaMock.start({ topics: TOPICS.map((t) => `${t}:3:3`) });
  try {
    rows.push(await rawRun(mock.brokers, events, opts));
  } finally {
    await mock.stop();
  }
  return rows;
}

if (require.main === module) {
  const encodings = (process.env.BENCH_KAFKA_ENCODINGS ?? 'json').split(',') as KafkaEncoding[];
  const compression = (process.env.BENCH_KAFKA_COMPRESSION ?? 'gzip') as 'none' | 'gzip';
  benchKafkaSink({ encodings, compression, events: Number(process.env.BENCH_KAFKA_EVENTS ?? 60000) })
    .then((rows) => {
      console.log(
        `kafka sink, compression=${compression}, kafkajs overrides ${kafkajsOverrides}, ${rows[0]?.records ?? 0} events, batch 2000 (rates are events/s; otlp_proto packs up to 500 events per Kafka record)`,
      );
      console.table(rows);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
