/**
 * What an item the exporter queues really holds in memory, against the size its byte bound counts:
 * `node --expose-gc dist/bench/retained-bytes.js [items]`. Synthetic events (the agent scenario's
 * mix, 200 pods × 2 containers) are mapped to OTLP spans and to Kafka json records as the sinks do;
 * N of each are kept alive and the V8 heap plus the ArrayBuffer memory outside it (after a full GC)
 * is compared with what was there before.
 * Prints heap bytes per item, the mean size the queue bound counts, and the difference (the
 * per-item overhead constants `OTLP_*_OVERHEAD_BYTES` and `KAFKA_RECORD_OVERHEAD_BYTES`).
 */
import { silentLogger } from '../src/core/logger';
import type { EventBatch, PodtraceEvent } from '../src/events/event';
import { KafkaJsonEncoder } from '../src/sinks/kafka/kafka-json-encoder';
import { kafkaRecordBytes } from '../src/sinks/kafka/kafka-record';
import type { KafkaRecord } from '../src/sinks/kafka/kafka-record';
import { SpanMapper } from '../src/sinks/spans/span-mapper';
import type { LogRecordData } from '../src/sinks/spans/log-model';
import { toEncodedSpan } from '../src/sinks/spans/encode-trace-request';
import { toEncodedLogRecord } from '../src/sinks/spans/encode-logs-request';
import type { EncodedLogRecord, EncodedSpan, SpanData } from '../src/sinks/spans/span-model';
import { encodedItemBytes } from '../src/sinks/otlp/otlp-sink';
import { ByteSlab } from '../src/sinks/exporter/byte-slab';
import { SpanResources } from '../src/sinks/spans/span-resources';
import { estimateLogRecordBytes, estimateSpanBytes } from '../src/sinks/spans/span-size';
import { SyntheticSource } from '../src/sources/synthetic-source';
import { DEFAULT_SYNTHETIC_MIX } from '../src/sources/synthetic-config';
import { Metrics } from '../src/telemetry/metrics';
import { TEST_BOOT_ID } from '../test/helpers/events';

const gc = (globalThis as { gc?: () => void }).gc;

/** The V8 heap and the ArrayBuffer backing stores outside it (Buffers, slabs), after a full GC. */
function heapUsed(): number {
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

async function syntheticEvents(n: number): Promise<PodtraceEvent[]> {
  const source = new SyntheticSource(
    {
      eventsPerSecond: 1_000_000,
      mix: { ...DEFAULT_SYNTHETIC_MIX },
      pods: 200,
      containersPerPod: 2,
      durationSeconds: 0,
      batchEvents: 4096,
      tickMs: 2,
      ringBufferBytes: 64 * 1024 * 1024,
    },
    { logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }), nodeName: 'bench-node' },
  );
  const events: PodtraceEvent[] = [];
  const done = new Promise<void>((resolve) => {
    const sub = source.batches$.subscribe((b: EventBatch) => {
      for (const e of b.events) if (events.length < n) events.push(e);
      if (events.length >= n) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  await source.start();
  await done;
  await source.shutdown();
  return events;
}

function measure<T>(label: string, make: () => T[], sizeOf: (item: T) => number): void {
  const before = heapUsed();
  const items = make();
  const after = heapUsed();
  let counted = 0;
  for (const item of items) counted += sizeOf(item);
  const perItem = (after - before) / items.length;
  const mean = counted / items.length;
  process.stdout.write(
    `${label}: ${items.length} items, heap ${perItem.toFixed(0)} B/item, counted ${mean.toFixed(0)} B/item, overhead ${(perItem - mean).toFixed(0)} B/item (×${(perItem / mean).toFixed(2)})\n`,
  );
}

/** A span mapper as the agent scenario's sinks make one (fresh state per measurement). */
function benchMapper(): SpanMapper {
  return new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'bench', nodeName: 'bench-node' }),
  });
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const events = await syntheticEvents(n);
  heapUsed();
  measure(
    'otlp span',
    () => {
      const mapper = benchMapper();
      const spans: SpanData[] = [];
      for (let i = 0; i < events.length; i += 4096)
        mapper.mapBatch({ events: events.slice(i, i + 4096) }, spans);
      return spans;
    },
    estimateSpanBytes,
  );
  measure(
    'otlp span, queued encoded (as the OTLP sink queues it)',
    () => {
      const mapper = benchMapper();
      const out: EncodedSpan[] = [];
      for (let i = 0; i < events.length; i += 4096) {
        const spans: SpanData[] = [];
        mapper.mapBatch({ events: events.slice(i, i + 4096) }, spans);
        for (const s of spans) out.push(toEncodedSpan(s));
      }
      return out;
    },
    encodedItemBytes,
  );
  measure(
    'otlp log record',
    () => {
      const mapper = benchMapper();
      const logs: LogRecordData[] = [];
      for (let i = 0; i < events.length; i += 4096)
        mapper.map({ events: events.slice(i, i + 4096) }, { spans: null, logs });
      return logs;
    },
    estimateLogRecordBytes,
  );
  measure(
    'otlp log record, queued encoded (as the OTLP sink queues it)',
    () => {
      const mapper = benchMapper();
      const out: EncodedLogRecord[] = [];
      for (let i = 0; i < events.length; i += 4096) {
        const logs: LogRecordData[] = [];
        mapper.map({ events: events.slice(i, i + 4096) }, { spans: null, logs });
        for (const r of logs) out.push(toEncodedLogRecord(r));
      }
      return out;
    },
    encodedItemBytes,
  );
  const encoder = new KafkaJsonEncoder('bench-node');
  const slab = new ByteSlab(64 * 1024);
  measure(
    'kafka json record, value in a slab (as the Kafka sink queues it)',
    () =>
      events.map((e, i): KafkaRecord => ({
        topic: 'podtrace.process',
        key: 'pod-uid',
        value: slab.utf8(encoder.encode(e, i)),
        events: 1,
      })),
    kafkaRecordBytes,
  );
  measure(
    'kafka json record, value as a string',
    () =>
      events.map((e, i): KafkaRecord => ({
        topic: 'podtrace.process',
        key: 'pod-uid',
        value: encoder.encode(e, i),
        events: 1,
      })),
    kafkaRecordBytes,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
