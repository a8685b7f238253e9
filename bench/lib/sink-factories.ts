import { closeSync, openSync, write } from 'node:fs';
import { Writable } from 'node:stream';
import { validateConfig } from '../../src/config/load-config';
import type { Logger } from '../../src/core/logger';
import type { EventBatch } from '../../src/events/event';
import type { Sink } from '../../src/pipeline/stages';
import { ConsoleSink } from '../../src/sinks/console/console-sink';
import type { KafkaEncoding } from '../../src/sinks/kafka/kafka-config';
import { createKafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { createOtlpSink } from '../../src/sinks/otlp/otlp-sink';
import type { Metrics } from '../../src/telemetry/metrics';
import { agentInstanceId } from '../../src/core/instance-id';
import { DEFAULT_REDACT_PATTERNS } from '../../src/events/redact';
import type { BatchMapping } from '../../src/sinks/spans/batch-mapping';
import { sharedBatchMapping } from '../../src/sinks/spans/shared-mapping';
import { KafkaMock, kafkaMockMissing } from '../../test/helpers/kafka-mock';
import { ExactAcks, ExportCounterAcks } from './acks';
import type { AckResult } from './acks';
import { startOtlpReceiver } from './otlp-receiver-process';

export interface SinkDeps {
  logger: Logger;
  metrics: Metrics;
  /** The events → OTLP mapping the OTLP and Kafka OTLP sinks share, as the agent does (see benchMapping). */
  mapping?: BatchMapping;
  /** Keep what is needed to compute per-event latency (kernel timestamp → acknowledgement). */
  latency: boolean;
}

export interface BenchSink {
  sink: Sink;
  /** After sink.shutdown(): what the destination acknowledged, and per-event latencies if asked. */
  results(): Promise<AckResult>;
  /** Releases what the factory set up around the sink (receivers, brokers, files). */
  close(): Promise<void>;
}

/** How a benchmark builds one sink; scenarios 3 and 4 run every factory alone and all together. */
export interface SinkFactory {
  readonly name: string;
  /** Why this sink cannot run here, or null. */
  missing(): string | null;
  /** How `results()` knows latency: `exact` per event, or `export-order` (see ExportCounterAcks). */
  readonly ackPrecision: 'exact' | 'export-order';
  /** Measured on its own. */
  readonly alone: boolean;
  /** Part of the "all sinks together" set (the production exporters). */
  readonly inAll: boolean;
  create(deps: SinkDeps): Promise<BenchSink>;
}

const NODE_NAME = 'bench-node';
const BOOT_ID = '00000000-0000-4000-8000-000000000000';

/** Accepts and acknowledges each batch at once: the pipeline's own cost, no export. */
export class NullSink implements Sink {
  readonly name = 'null';
  constructor(private readonly onBatch: (batch: EventBatch) => void) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  consume(batch: EventBatch): void {
    this.onBatch(batch);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const nullSinkFactory: SinkFactory = {
  name: 'null',
  ackPrecision: 'exact',
  alone: true,
  inAll: false,
  missing: () => null,
  create: ({ latency }) => {
    const acks = new ExactAcks(latency);
    return Promise.resolve({
      sink: new NullSink((b) => acks.ack(b.events)),
      results: () => Promise.resolve(acks.results()),
      close: () => Promise.resolve(),
    });
  },
};

/**
 * The console sink (JSON lines) writing to /dev/null. ConsoleSink writes one chunk per batch, in
 * order, so a FIFO of batches lines the write callbacks up with the events they carried.
 */
export const consoleSinkFactory: SinkFactory = {
  name: 'console',
  ackPrecision: 'exact',
  alone: true,
  inAll: false,
  missing: () => null,
  create: ({ logger, metrics, latency }) => {
    const acks = new ExactAcks(latency);
    const fd = openSync('/dev/null', 'w');
    const inFlight: EventBatch[] = [];
    const out = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        write(fd, chunk, (err) => {
          const b = inFlight.shift();
          if (b) acks.ack(b.events);
          cb(err);
        });
      },
    });
    const inner = new ConsoleSink({ enabled: true, format: 'json' }, { logger, metrics, out });
    const sink: Sink = {
      name: 'console',
      start: () => inner.start(),
      consume: (batch) => {
        inFlight.push(batch);
        inner.consume(batch);
      },
      shutdown: async () => {
        await inner.shutdown();
        // Every chunk the console sink wrote has reached /dev/null (and been acknowledged).
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      },
    };
    return Promise.resolve({
      sink,
      results: () => Promise.resolve(acks.results()),
      close: () => {
        closeSync(fd);
        return Promise.resolve();
      },
    });
  },
};

/** Wraps a real sink so the bench sees what it consumed; acknowledgements come from its exported counter. */
function counted(inner: Sink, acks: ExportCounterAcks): Sink {
  return {
    name: inner.name,
    start: () => inner.start(),
    consume: (batch) => {
      acks.consumed(batch.events);
      inner.consume(batch);
    },
    shutdown: () => inner.shutdown(),
  };
}

/** The OTLP/gRPC sink (default settings) → a loopback receiver in a child process (bench/otlp-bench-receiver.ts). */
export const otlpSinkFactory: SinkFactory = {
  name: 'otlp',
  ackPrecision: 'export-order',
  alone: true,
  inAll: true,
  missing: () => null,
  create: async ({ logger, metrics, latency, mapping }) => {
    const receiver = await startOtlpReceiver();
    const config = validateConfig({
      sinks: { otlp: { enabled: true, endpoint: receiver.endpoint } },
    }).sinks.otlp;
    const sink = createOtlpSink(config, {
      logger,
      metrics,
      env: {},
      nodeName: NODE_NAME,
      hostName: NODE_NAME,
      bootId: BOOT_ID,
      shutdownTimeoutMs: 60_000,
      mapping,
    });
    const acks = new ExportCounterAcks('otlp', metrics, latency);
    return {
      sink: counted(sink, acks),
      results: () => acks.results(),
      close: () => {
        receiver.close();
        return Promise.resolve();
      },
    };
  },
};

export const KAFKA_TOPICS = [
  'podtrace.process',
  'podtrace.tcp',
  'podtrace.oom',
  'podtrace.loss',
  'otlp_spans',
];

/** One Kafka sink with the given encodings, against a fresh librdkafka mock cluster (3 brokers). */
function kafkaFactory(encodings: KafkaEncoding[], alone: boolean, inAll: boolean): SinkFactory {
  return {
    name: `kafka-${encodings.join('+')}`,
    ackPrecision: 'export-order',
    alone,
    inAll,
    missing: () => kafkaMockMissing(),
    create: async ({ logger, metrics, latency, mapping }) => {
      const mock = await KafkaMock.start({ topics: KAFKA_TOPICS.map((t) => `${t}:3:3`) });
      const config = validateConfig({ sinks: { kafka: { enabled: true, brokers: mock.brokers, encodings } } })
        .sinks.kafka;
      const sink = createKafkaSink(config, {
        logger,
        metrics,
        nodeName: NODE_NAME,
        hostName: NODE_NAME,
        bootId: BOOT_ID,
        env: {},
        shutdownTimeoutMs: 60_000,
        lossSource: () => Promise.resolve({}),
        mapping,
      });
      const acks = new ExportCounterAcks('kafka', metrics, latency);
      return { sink: counted(sink, acks), results: () => acks.results(), close: () => mock.stop() };
    },
  };
}

/**
 * Every sink the benchmarks know, each measured alone and all together. A new sink plugs in here
 * with a factory that builds it against a loopback destination and reports acknowledgements.
 */
export const SINK_FACTORIES: readonly SinkFactory[] = [
  nullSinkFactory,
  consoleSinkFactory,
  otlpSinkFactory,
  kafkaFactory(['json'], true, false),
  kafkaFactory(['otlp_proto'], true, false),
  // Both encodings from one sink, as a node would be configured to write both.
  kafkaFactory(['json', 'otlp_proto'], false, true),
];

/**
 * The mapping the agent would share between the named sinks (src/cli/run-command.ts does the
 * same with the real config): set when the OTLP sink runs next to a Kafka sink with an OTLP
 * encoding, undefined otherwise.
 */
export function benchMapping(names: readonly string[], logger: Logger): BatchMapping | undefined {
  const kafka = names.find((n) => n.startsWith('kafka-'));
  if (!names.includes('otlp') || kafka === undefined) return undefined;
  const sinks = validateConfig({
    sinks: {
      otlp: { enabled: true },
      kafka: {
        enabled: true,
        brokers: ['127.0.0.1:9092'],
        encodings: kafka.slice('kafka-'.length).split('+') as KafkaEncoding[],
      },
    },
  }).sinks;
  return (
    sharedBatchMapping(sinks.otlp, sinks.kafka, {
      nodeName: NODE_NAME,
      hostName: NODE_NAME,
      env: {},
      logger,
      instanceId: agentInstanceId(),
      redact: DEFAULT_REDACT_PATTERNS,
      bootId: BOOT_ID,
    }) ?? undefined
  );
}

export function sinkFactory(name: string): SinkFactory {
  const f = SINK_FACTORIES.find((s) => s.name === name);
  if (!f)
    throw new Error(`unknown bench sink "${name}" (known: ${SINK_FACTORIES.map((s) => s.name).join(', ')})`);
  return f;
}
