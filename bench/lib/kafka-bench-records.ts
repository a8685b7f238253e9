import { silentLogger } from '../../src/core/logger';
import {
  DEFAULT_KAFKA_OTLP_SPANS_PER_RECORD,
  DEFAULT_KAFKA_TOPIC_PREFIX,
} from '../../src/sinks/kafka/kafka-config';
import { KAFKA_JSON_SCHEMA_VERSION, KafkaJsonEncoder } from '../../src/sinks/kafka/kafka-json-encoder';
import { createOtlpRecordEncoder } from '../../src/sinks/kafka/kafka-otlp-encoder';
import type { KafkaRecord } from '../../src/sinks/kafka/kafka-record';
import { kafkaRecordBytes } from '../../src/sinks/kafka/kafka-record';
import { kafkaRecordKeys } from '../../src/sinks/kafka/kafka-record-key';
import { topicsByKind } from '../../src/sinks/kafka/kafka-topics';
import { createBatchMapping } from '../../src/sinks/spans/batch-mapping';
import { NODE_NAME, makeEvents } from '../../test/helpers/kafka-events';

/** The Kafka encodings the client bench sends (the sink's records of each). */
export type BenchEncoding = 'json' | 'otlp_proto';

/** What the sink's exporter hands its transport: the records of one topic, at most a batch. */
export interface BenchBatch {
  topic: string;
  records: KafkaRecord[];
}

/** Events per `consume()` of the pipeline (the sink is fed batches of about this size). */
const PIPELINE_BATCH_EVENTS = 1000;
const OTLP_SPANS_TOPIC = 'otlp_spans';
/** The headers the sink puts on `otlp_proto` records (kafka-sink.ts). */
const OTLP_HEADERS = Object.freeze({
  'content-type': 'application/x-protobuf',
  'podtrace-schema': String(KAFKA_JSON_SCHEMA_VERSION),
});
const BENCH_BOOT_ID = '6f1c7a52-3d0e-4b8e-9a57-1c2d3e4f5a6b';
const BENCH_INSTANCE_ID = 'bench-instance';

/**
 * The records the Kafka sink makes of `events` synthetic events (test/helpers/kafka-events: every
 * kind, pods of several workloads), built like `KafkaSink.consume()` does with the sink's own
 * encoders: `json` one record per event on `podtrace.<group>`, keyed by pod; `otlp_proto` one
 * ExportTraceServiceRequest per 500 events on `otlp_spans`, keyed by node.
 */
export function sinkRecords(encoding: BenchEncoding, events: number): KafkaRecord[] {
  const all = makeEvents(events);
  const out: KafkaRecord[] = [];
  if (encoding === 'json') {
    const json = new KafkaJsonEncoder(NODE_NAME, undefined, BENCH_INSTANCE_ID);
    const keyOf = kafkaRecordKeys(NODE_NAME);
    const topics = topicsByKind(DEFAULT_KAFKA_TOPIC_PREFIX, {});
    for (let i = 0; i < all.length; i++) {
      const e = all[i]!;
      out.push({
        topic: topics[e.kind] ?? `${DEFAULT_KAFKA_TOPIC_PREFIX}unknown`,
        key: keyOf(e),
        value: json.encode(e, i + 1),
        events: 1,
      });
    }
    return out;
  }
  const otlp = createOtlpRecordEncoder({
    mapping: createBatchMapping({
      spans: true,
      logs: false,
      nodeName: NODE_NAME,
      hostName: 'bench-host',
      bootId: BENCH_BOOT_ID,
      env: {},
      logger: silentLogger(),
      instanceId: BENCH_INSTANCE_ID,
    }),
    spansTopic: OTLP_SPANS_TOPIC,
    logsTopic: null,
  });
  for (let i = 0; i < all.length; i += PIPELINE_BATCH_EVENTS) {
    const batch = { events: all.slice(i, i + PIPELINE_BATCH_EVENTS) };
    for (const v of otlp(batch, DEFAULT_KAFKA_OTLP_SPANS_PER_RECORD, 1_000_000))
      out.push({ topic: v.topic, key: NODE_NAME, value: v.value, headers: OTLP_HEADERS, events: v.events });
  }
  return out;
}

/**
 * Splits the records like the exporter's keyed batcher: per topic, in order, at most
 * `maxRecords` records and `maxBytes` (kafkaRecordBytes) per batch.
 */
export function topicBatches(
  records: readonly KafkaRecord[],
  maxRecords: number,
  maxBytes: number,
): BenchBatch[] {
  const open = new Map<string, { batch: BenchBatch; bytes: number }>();
  const out: BenchBatch[] = [];
  for (const r of records) {
    const size = kafkaRecordBytes(r);
    let cur = open.get(r.topic);
    if (cur !== undefined && (cur.batch.records.length >= maxRecords || cur.bytes + size > maxBytes)) {
      out.push(cur.batch);
      cur = undefined;
    }
    if (cur === undefined) {
      cur = { batch: { topic: r.topic, records: [] }, bytes: 0 };
      open.set(r.topic, cur);
    }
    cur.batch.records.push(r);
    cur.bytes += size;
  }
  for (const { batch } of open.values()) out.push(batch);
  return out;
}

/** The distinct topics of the records, sorted. */
export function recordTopics(records: readonly KafkaRecord[]): string[] {
  return [...new Set(records.map((r) => r.topic))].sort();
}

/**
 * Sends the batches like the sink's exporter: one batch per topic at a time (per-partition order,
 * idempotent sequences), up to `maxInFlight` topics at once.
 */
export async function sendLikeTheSink(
  batches: readonly BenchBatch[],
  maxInFlight: number,
  send: (batch: BenchBatch) => Promise<void>,
): Promise<void> {
  const perTopic = new Map<string, BenchBatch[]>();
  for (const b of batches) {
    let list = perTopic.get(b.topic);
    if (list === undefined) perTopic.set(b.topic, (list = []));
    list.push(b);
  }
  let free = maxInFlight;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (free > 0) {
      free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next !== undefined) next();
    else free++;
  };
  await Promise.all(
    [...perTopic.values()].map(async (list) => {
      for (const b of list) {
        await acquire();
        try {
          await send(b);
        } finally {
          release();
        }
      }
    }),
  );
}
