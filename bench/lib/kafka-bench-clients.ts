import { CompressionTypes, Kafka } from 'kafkajs';
import pino from 'pino';
import { validateConfig } from '../../src/config/load-config';
import { kafkaClientOptions } from '../../src/sinks/kafka/kafka-client-options';
import { KafkaProducers } from '../../src/sinks/kafka/kafka-producers';
import type { KafkaRecord } from '../../src/sinks/kafka/kafka-record';
import { KafkaTransport } from '../../src/sinks/kafka/kafka-transport';
import { registerZstdCodec } from '../../src/sinks/kafka/kafka-zstd-codec';
import type { BenchBatch } from './kafka-bench-records';
import { confluentKafkaJsClient, confluentNativeClient } from './confluent-bench-clients';

export type BenchClientName = 'kafkajs' | 'ckjs-kafkajs' | 'ckjs-native';
export const BENCH_CLIENTS: readonly BenchClientName[] = ['kafkajs', 'ckjs-kafkajs', 'ckjs-native'];
export type BenchCodec = 'zstd' | 'gzip';

/** One producer of a client under test, connected to a cluster. */
export interface BenchClient {
  /** Sends one topic's batch; resolves with the records the cluster acknowledged. */
  send(batch: BenchBatch): Promise<number>;
  close(): Promise<void>;
  /** The producer settings that matter for the comparison, for the report. */
  readonly settings: string;
}

export interface BenchClientOptions {
  brokers: string[];
  codec: BenchCodec;
  /** librdkafka's `linger.ms` (kafkajs has none: the sink's batcher is its linger). */
  lingerMs: number;
  /** librdkafka's `queue.buffering.max.kbytes`. */
  queueKbytes: number;
  /** librdkafka's `enable.idempotence` (kafkajs: asked for, as the sink does; the mock refuses it). */
  rdkafkaIdempotent: boolean;
  /** `@confluentinc/kafka-javascript`'s module path (confluent clients only). */
  rdkafkaModule?: string;
}

/** Re-sends of records whose partition kafkajs left without an acknowledgement (the sink does the same). */
const MAX_RESENDS = 5;

/** kafkajs the way the sink drives it: its client options, a producer per topic (connected on first send), KafkaTransport.send. */
function kafkajsClient(o: BenchClientOptions): BenchClient {
  const cfg = validateConfig({
    sinks: { kafka: { enabled: true, brokers: o.brokers, compression: o.codec } },
  }).sinks.kafka;
  // KafkaProducers falls back to a plain producer (with a warning) where the cluster cannot serve
  // an idempotent one, as the librdkafka mock cannot for kafkajs (no controller): say which it was.
  let idempotent = true;
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void (line.includes('without idempotence') && (idempotent = false)) },
  );
  const kafka = new Kafka(kafkaClientOptions(cfg, { logger, env: {} }));
  const producers = new KafkaProducers(kafka, true, logger);
  if (o.codec === 'zstd') registerZstdCodec();
  const compression = o.codec === 'zstd' ? CompressionTypes.ZSTD : CompressionTypes.GZIP;
  const transport = new KafkaTransport(producers, -1, compression);
  return {
    get settings(): string {
      const mode = idempotent
        ? 'idempotent, maxInFlightRequests 1'
        : 'NOT idempotent (the cluster gave kafkajs no producer id: the sink falls back)';
      return `kafkajs 2.2 via KafkaTransport: ${mode}, acks -1, ${o.codec} (${o.codec === 'zstd' ? 'level 3, node:zlib' : 'zlib level 6'})`;
    },
    async send(batch: BenchBatch): Promise<number> {
      let pending: readonly KafkaRecord[] = batch.records;
      for (let attempt = 0; attempt <= MAX_RESENDS && pending.length > 0; attempt++) {
        const r = await transport.send(transport.encode(pending), pending, batch.topic);
        pending = r.unacknowledged ?? [];
      }
      return batch.records.length - pending.length;
    },
    close: () => producers.close(),
  };
}

/** Connects the client `name` to the cluster. */
export function createBenchClient(name: BenchClientName, o: BenchClientOptions): Promise<BenchClient> {
  if (name === 'kafkajs') return Promise.resolve(kafkajsClient(o));
  if (o.rdkafkaModule === undefined) throw new Error(`${name} needs @confluentinc/kafka-javascript`);
  return name === 'ckjs-kafkajs'
    ? confluentKafkaJsClient(o.rdkafkaModule, o)
    : confluentNativeClient(o.rdkafkaModule, o);
}
