import type { BenchBatch } from './kafka-bench-records';
import type { BenchClient, BenchClientOptions } from './kafka-bench-clients';

/**
 * The part of `@confluentinc/kafka-javascript` (librdkafka 2.x underneath) the bench uses. It is
 * not a dependency of podtrace: the bench loads it from a module path at run time
 * (PODTRACE_BENCH_RDKAFKA), so these types stand in for its own.
 */
interface RdDeliveryReport {
  topic: string;
  partition: number;
  offset: number;
  opaque?: unknown;
}
interface RdProducer {
  connect(options: Record<string, unknown>, cb: (err: Error | null) => void): void;
  on(event: 'delivery-report', cb: (err: Error | null, report: RdDeliveryReport) => void): unknown;
  on(event: 'event.error', cb: (err: Error) => void): unknown;
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: string,
    timestamp: number | null,
    opaque: unknown,
    headers: Record<string, string>[] | null,
  ): unknown;
  setPollInBackground(set: boolean): void;
  flush(timeoutMs: number, cb: (err: Error | null) => void): void;
  disconnect(cb: (err: Error | null) => void): void;
}
interface CkjsMessage {
  key: string;
  value: string | Buffer;
  headers?: Record<string, string>;
}
interface CkjsRecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
}
interface CkjsProducer {
  connect(): Promise<void>;
  sendBatch(args: {
    topicMessages: { topic: string; messages: CkjsMessage[] }[];
  }): Promise<CkjsRecordMetadata[]>;
  disconnect(): Promise<void>;
}
interface CkjsModule {
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => {
      producer(config: Record<string, unknown>): CkjsProducer;
    };
  };
  Producer: new (config: Record<string, unknown>) => RdProducer;
  librdkafkaVersion?: string;
}

async function load(modulePath: string): Promise<CkjsModule> {
  const m = (await import(modulePath)) as CkjsModule & { default?: CkjsModule };
  const mod = m.KafkaJS !== undefined ? m : m.default;
  if (mod?.KafkaJS === undefined || typeof mod.Producer !== 'function')
    throw new Error(`${modulePath} is not @confluentinc/kafka-javascript (no KafkaJS / Producer export)`);
  return mod;
}

/** librdkafka's producer settings for both confluent paths: what a DaemonSet would run with. */
function rdkafkaSettings(o: BenchClientOptions): Record<string, unknown> {
  return {
    'enable.idempotence': o.rdkafkaIdempotent,
    acks: -1,
    'max.in.flight': 5,
    'compression.codec': o.codec,
    // The same levels as the kafkajs path: zstd 3 (kafka-zstd-codec.ts), gzip zlib's default 6.
    'compression.level': o.codec === 'zstd' ? 3 : 6,
    'linger.ms': o.lingerMs,
    'queue.buffering.max.kbytes': o.queueKbytes,
    'queue.buffering.max.messages': 100_000,
    // kafkajs's partitioner (murmur2 of the key): the same partition per pod as today.
    partitioner: 'murmur2_random',
    'allow.auto.create.topics': true,
  };
}

const settingsLabel = (o: BenchClientOptions, version: string | undefined): string =>
  `librdkafka ${version ?? '?'}: ${o.rdkafkaIdempotent ? 'idempotent' : 'NOT idempotent'}, acks -1, max.in.flight 5, ${o.codec} level ${o.codec === 'zstd' ? 3 : 6}, linger.ms ${o.lingerMs}, queue.buffering.max.kbytes ${o.queueKbytes}, murmur2_random`;

/** Confluent's KafkaJS-compatible producer (`sendBatch`, one producer for every topic). */
export async function confluentKafkaJsClient(
  modulePath: string,
  o: BenchClientOptions,
): Promise<BenchClient> {
  const mod = await load(modulePath);
  const kafka = new mod.KafkaJS.Kafka({ kafkaJS: { brokers: o.brokers, clientId: 'podtrace', logLevel: 0 } });
  const { acks: _a, 'enable.idempotence': _i, 'compression.codec': _c, ...rest } = rdkafkaSettings(o);
  const producer = kafka.producer({
    kafkaJS: { idempotent: o.rdkafkaIdempotent, acks: -1, compression: o.codec },
    ...rest,
  });
  await producer.connect();
  return {
    settings: `KafkaJS API, ${settingsLabel(o, mod.librdkafkaVersion)}`,
    async send(batch: BenchBatch): Promise<number> {
      // It rewrites the messages it is given (partition, value as Buffer, headers): a copy each, as a sink would have to.
      const messages: CkjsMessage[] = batch.records.map((r) =>
        r.headers === undefined
          ? { key: r.key, value: r.value }
          : { key: r.key, value: r.value, headers: r.headers },
      );
      const meta = await producer.sendBatch({ topicMessages: [{ topic: batch.topic, messages }] });
      for (const m of meta)
        if (m.errorCode !== 0) throw new Error(`${m.topicName}[${m.partition}] error ${m.errorCode}`);
      // sendBatch resolves once every message has its delivery report (it rejects on any failure).
      return messages.length;
    },
    close: () => producer.disconnect(),
  };
}

interface BatchWait {
  left: number;
  acked: number;
  failed: number;
  done: () => void;
}

const QUEUE_FULL = -184;

/** librdkafka's own API: `produce()` per record, delivery reports polled on librdkafka's background thread. */
export async function confluentNativeClient(modulePath: string, o: BenchClientOptions): Promise<BenchClient> {
  const mod = await load(modulePath);
  const producer = new mod.Producer({
    'metadata.broker.list': o.brokers.join(','),
    'client.id': 'podtrace',
    dr_cb: true,
    ...rdkafkaSettings(o),
  });
  let lastError: Error | null = null;
  producer.on('event.error', (err) => (lastError = err));
  producer.on('delivery-report', (err, report) => {
    const w = report.opaque as BatchWait;
    if (err === null) w.acked++;
    else w.failed++;
    if (--w.left === 0) w.done();
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({}, (err) => (err ? reject(err) : resolve())),
  );
  producer.setPollInBackground(true);
  return {
    settings: `produce() + delivery reports, ${settingsLabel(o, mod.librdkafkaVersion)}`,
    async send(batch: BenchBatch): Promise<number> {
      const records = batch.records;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const w: BatchWait = { left: records.length, acked: 0, failed: 0, done };
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const value = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        const headers =
          r.headers === undefined ? null : Object.entries(r.headers).map(([k, v]) => ({ [k]: v }));
        for (;;) {
          try {
            producer.produce(batch.topic, null, value, r.key, null, w, headers);
            break;
          } catch (err) {
            if ((err as { code?: unknown }).code !== QUEUE_FULL) throw err;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }
      }
      await finished;
      if (w.failed > 0)
        throw new Error(
          `${w.failed} of ${records.length} records failed${lastError ? `: ${String(lastError)}` : ''}`,
        );
      return w.acked;
    },
    async close(): Promise<void> {
      await new Promise<void>((resolve) => producer.flush(10_000, () => resolve()));
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    },
  };
}
