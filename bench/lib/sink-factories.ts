import { openSync, closeSync, write } from 'node:fs';
import { Writable } from 'node:stream';
import type { Logger } from '../../src/core/logger';
import type { EventBatch, PodtraceEvent } from '../../src/events/event';
import type { Sink } from '../../src/pipeline/stages';
import { ConsoleSink } from '../../src/sinks/console/console-sink';
import type { Metrics } from '../../src/telemetry/metrics';

/** Called when a sink's destination has acknowledged these events (the end of the latency clock). */
export type AckListener = (events: readonly PodtraceEvent[]) => void;

export interface SinkDeps {
  logger: Logger;
  metrics: Metrics;
  onAck: AckListener;
}

export interface BenchSink {
  sink: Sink;
  /** Releases what the factory set up around the sink (receivers, files), after sink.shutdown(). */
  close(): Promise<void>;
}

/**
 * How a benchmark builds one sink and learns about its acknowledgements. Scenarios 3 and 4 run
 * every factory alone and all of them together.
 */
export interface SinkFactory {
  readonly name: string;
  /** Why this sink cannot run here, or null. */
  missing(): string | null;
  create(deps: SinkDeps): Promise<BenchSink>;
}

/** Accepts and acknowledges each batch at once: the cost of the pipeline without any export. */
export class NullSink implements Sink {
  readonly name = 'null';
  constructor(private readonly onAck: AckListener) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  consume(batch: EventBatch): void {
    this.onAck(batch.events);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const nullSinkFactory: SinkFactory = {
  name: 'null',
  missing: () => null,
  create: ({ onAck }) => Promise.resolve({ sink: new NullSink(onAck), close: () => Promise.resolve() }),
};

/**
 * The console sink (JSON lines) writing to /dev/null. ConsoleSink writes one chunk per batch, in
 * order, so a FIFO of batches lines the write callbacks up with the events they carried.
 */
export const consoleSinkFactory: SinkFactory = {
  name: 'console',
  missing: () => null,
  create: ({ logger, metrics, onAck }) => {
    const fd = openSync('/dev/null', 'w');
    const inFlight: (readonly PodtraceEvent[])[] = [];
    const out = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        write(fd, chunk, (err) => {
          const events = inFlight.shift();
          if (events) onAck(events);
          cb(err);
        });
      },
    });
    const inner = new ConsoleSink({ enabled: true, format: 'json' }, { logger, metrics, out });
    const sink: Sink = {
      name: 'console',
      start: () => inner.start(),
      consume: (batch) => {
        inFlight.push(batch.events);
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
      close: () => {
        closeSync(fd);
        return Promise.resolve();
      },
    });
  },
};

/**
 * Every sink the benchmarks know. The OTLP and Kafka sinks plug in here once merged:
 * - `otlp`: OtlpSink → a loopback OTLP/gRPC receiver started by the factory on 127.0.0.1:0, acking
 *   events when the receiver has answered the Export call (onAck from the exporter's result callback);
 * - `kafka-json` and `kafka-otlp_proto`: KafkaSink with `format` json / otlp_proto → the Kafka mock
 *   cluster on loopback, acking when the produce request is acknowledged by the broker.
 * `missing()` returns why a factory cannot run (e.g. the mock broker is not built), and the
 * scenario prints it instead of a figure.
 */
export const SINK_FACTORIES: readonly SinkFactory[] = [nullSinkFactory, consoleSinkFactory];

export function sinkFactory(name: string): SinkFactory {
  const f = SINK_FACTORIES.find((s) => s.name === name);
  if (!f)
    throw new Error(`unknown bench sink "${name}" (known: ${SINK_FACTORIES.map((s) => s.name).join(', ')})`);
  return f;
}
