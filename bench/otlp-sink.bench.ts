/**
 * OTLP sink throughput: spans/s from events to a loopback gRPC receiver (a child process), for
 * podtrace's sink (hand-written protobuf encoder + pass-through grpc-js client) and, side by side,
 * for @opentelemetry/exporter-trace-otlp-grpc fed the same spans (converted to ReadableSpan).
 * Both paths include the event → span mapping. CPU figures are the benchmark process's own
 * user+system time, i.e. what one core spends per span.
 *
 * Run: `npx tsc -p . && node dist/bench/otlp-sink.bench.js [spans]`, or call benchOtlpSink().
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { SpanKind as ApiSpanKind } from '@opentelemetry/api';
import type { HrTime, Link, SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { silentLogger } from '../src/core/logger';
import type { EventBatch } from '../src/events/event';
import { validateConfig } from '../src/config/load-config';
import { createOtlpSink } from '../src/sinks/otlp/otlp-sink';
import { encodeExportTraceServiceRequest } from '../src/sinks/spans/encode-trace-request';
import { PODTRACE_SCOPE } from '../src/sinks/spans/instrumentation-scope';
import { groupByResource } from '../src/sinks/spans/resource-spans';
import { SpanMapper } from '../src/sinks/spans/span-mapper';
import type { SpanData, SpanResource } from '../src/sinks/spans/span-model';
import { SpanKind, StatusCode } from '../src/sinks/spans/span-model';
import { SpanResources } from '../src/sinks/spans/span-resources';
import { Metrics } from '../src/telemetry/metrics';
import { TEST_BOOT_ID, tcpVolumeBatch, workloadMeta } from '../test/helpers/events';

export interface OtlpBenchOptions {
  /** Spans per run (default 200 000). */
  spans?: number;
  /** Events per batch handed to the sink (default 1024). */
  batchEvents?: number;
  compressions?: readonly ('gzip' | 'none')[];
}

export interface OtlpBenchRow {
  exporter: 'podtrace' | 'opentelemetry-js';
  compression: 'gzip' | 'none';
  spans: number;
  seconds: number;
  spansPerSecond: number;
  /** Spans per CPU-second of the exporting process (one core). */
  spansPerCpuSecond: number;
  /** ExportTraceServiceRequest bytes the receiver got, after gRPC decompression. */
  requestBytes: number;
}

export interface OtlpBenchResult {
  rows: OtlpBenchRow[];
  /** podtrace spans/s ÷ opentelemetry-js spans/s, per compression. */
  ratio: Record<string, number>;
  /** Mapping + encoding alone (no gRPC), spans per CPU-second. */
  encodeOnlySpansPerCpuSecond: number;
}

function encodeOnly(batches: EventBatch[], total: number): number {
  const mapper = new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'bench', nodeName: 'bench' }),
  });
  const stop = measure();
  let pending: SpanData[] = [];
  let bytes = 0;
  for (const b of batches) {
    mapper.mapBatch(b, pending);
    if (pending.length >= EXPORT_BATCH) {
      bytes += encodeExportTraceServiceRequest(groupByResource(pending)).length;
      pending = [];
    }
  }
  if (pending.length > 0) bytes += encodeExportTraceServiceRequest(groupByResource(pending)).length;
  if (bytes === 0) throw new Error('nothing encoded');
  return total / stop().cpuSeconds;
}

const EXPORT_BATCH = 2048;
const CONCURRENCY = 2;

interface Receiver {
  port: number;
  bytes(): Promise<number>;
  stop(): void;
}

async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(join(__dirname, 'otlp-bench-receiver.js'), [], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('error', reject);
  });
  return {
    port,
    bytes: () =>
      new Promise((resolve) => {
        child.once('message', (m: { bytes: number }) => resolve(m.bytes));
        child.send('bytes');
      }),
    stop: () => child.kill(),
  };
}

function makeBatches(spans: number, batchEvents: number): EventBatch[] {
  const metas = [0, 1, 2, 3].map((i) => workloadMeta({ deployment: `svc-${i}`, namespace: 'bench' }));
  const out: EventBatch[] = [];
  for (let made = 0, i = 0; made < spans; i++) {
    const n = Math.min(batchEvents, spans - made);
    out.push(tcpVolumeBatch(n, metas[i % metas.length]!, 10_000_000_000_000 + made * 1000));
    made += n;
  }
  return out;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function measure(): () => { seconds: number; cpuSeconds: number } {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds: (c.user + c.system) / 1e6 };
  };
}

async function runPodtrace(port: number, batches: EventBatch[], total: number, compression: 'gzip' | 'none') {
  const metrics = new Metrics();
  const config = validateConfig({
    sinks: {
      otlp: {
        enabled: true,
        endpoint: `http://127.0.0.1:${port}`,
        compression,
        batch: { maxSpans: EXPORT_BATCH, maxDelayMs: 5 },
        queue: {
          maxSpans: total + EXPORT_BATCH,
          // BENCH_QUEUE_STORAGE=disk: the same run through the disk queue (its cost, BENCHMARKS.md).
          ...(process.env.BENCH_QUEUE_STORAGE === 'disk'
            ? { storage: 'disk', dir: mkdtempSync(join(tmpdir(), 'podtrace-bench-dq-')), maxBytes: 2 ** 34 }
            : {}),
        },
        maxConcurrentExports: CONCURRENCY,
      },
    },
  }).sinks.otlp;
  const sink = createOtlpSink(config, {
    logger: silentLogger(),
    metrics,
    env: {},
    nodeName: 'bench',
    hostName: 'bench',
    bootId: TEST_BOOT_ID,
    // The disk queue keeps what a deadline cuts off instead of dropping it: give it the time.
    shutdownTimeoutMs: 600_000,
  });
  await sink.start();
  const stop = measure();
  for (const b of batches) {
    sink.consume(b);
    await tick();
  }
  await sink.shutdown();
  const m = stop();
  const exported = (await metrics.sinkExported.get()).values.reduce((s, v) => s + v.value, 0);
  if (exported !== total) throw new Error(`podtrace sink exported ${exported} of ${total} spans`);
  return m;
}

/** OTLP span kind numbers → @opentelemetry/api SpanKind (INTERNAL = 0 there). */
const API_SPAN_KIND: Record<SpanKind, ApiSpanKind> = {
  [SpanKind.Unspecified]: 0,
  [SpanKind.Internal]: 0,
  [SpanKind.Server]: 1,
  [SpanKind.Client]: 2,
  [SpanKind.Producer]: 3,
  [SpanKind.Consumer]: 4,
};

function hrTime(ns: number): HrTime {
  const s = Math.floor(ns / 1e9);
  return [s, Math.round(ns - s * 1e9)];
}

/** What a user of the official exporter has to build per span from podtrace's span data. */
function toReadableSpans(spans: SpanData[], resources: WeakMap<SpanResource, Resource>): ReadableSpan[] {
  return spans.map((s) => {
    let resource = resources.get(s.resource);
    if (resource === undefined) {
      resource = resourceFromAttributes(s.resource.attributes);
      resources.set(s.resource, resource);
    }
    const traceId = Buffer.from(s.traceId).toString('hex');
    const ctx: SpanContext = {
      traceId,
      spanId: Buffer.from(s.spanId).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    };
    const links: Link[] = (s.links ?? []).map((l) => ({
      context: {
        traceId: Buffer.from(l.traceId).toString('hex'),
        spanId: Buffer.from(l.spanId).toString('hex'),
        traceFlags: TraceFlags.SAMPLED,
      },
    }));
    return {
      name: s.name,
      kind: API_SPAN_KIND[s.kind],
      spanContext: () => ctx,
      parentSpanContext:
        s.parentSpanId === null
          ? undefined
          : { traceId, spanId: Buffer.from(s.parentSpanId).toString('hex'), traceFlags: TraceFlags.SAMPLED },
      startTime: hrTime(s.endTimeUnixNs - s.durationNs),
      endTime: hrTime(s.endTimeUnixNs),
      duration: hrTime(s.durationNs),
      status: {
        code: s.statusCode === StatusCode.Error ? SpanStatusCode.ERROR : SpanStatusCode.UNSET,
        message: s.statusMessage ?? undefined,
      },
      attributes: s.attributes,
      links,
      events: (s.events ?? []).map((e) => ({
        name: e.name,
        time: hrTime(e.timeUnixNs),
        attributes: e.attributes ?? undefined,
      })),
      ended: true,
      resource,
      instrumentationScope: PODTRACE_SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

async function runOfficial(port: number, batches: EventBatch[], total: number, compression: 'gzip' | 'none') {
  const exporter = new OTLPTraceExporter({
    url: `http://127.0.0.1:${port}`,
    compression: compression as never,
    timeoutMillis: 30_000,
  });
  const mapper = new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'bench', nodeName: 'bench' }),
  });
  const resources = new WeakMap<SpanResource, Resource>();
  let pending: SpanData[] = [];
  let inFlight = 0;
  let exported = 0;
  let failed = 0;
  const waiters: (() => void)[] = [];
  const send = async (spans: SpanData[]): Promise<void> => {
    while (inFlight >= CONCURRENCY) await new Promise<void>((r) => waiters.push(r));
    inFlight++;
    exporter.export(toReadableSpans(spans, resources), (result) => {
      inFlight--;
      if (result.error === undefined) exported += spans.length;
      else failed += spans.length;
      waiters.shift()?.();
    });
  };
  const stop = measure();
  for (const b of batches) {
    mapper.mapBatch(b, pending);
    while (pending.length >= EXPORT_BATCH) {
      await send(pending.slice(0, EXPORT_BATCH));
      pending = pending.slice(EXPORT_BATCH);
    }
    await tick();
  }
  if (pending.length > 0) await send(pending);
  while (inFlight > 0) await new Promise<void>((r) => waiters.push(r));
  const m = stop();
  await exporter.shutdown();
  if (exported !== total)
    throw new Error(`opentelemetry-js exporter exported ${exported} of ${total} spans (${failed} failed)`);
  return m;
}

export async function benchOtlpSink(options: OtlpBenchOptions = {}): Promise<OtlpBenchResult> {
  const total = options.spans ?? 200_000;
  const batchEvents = options.batchEvents ?? 1024;
  const compressions = options.compressions ?? ['gzip', 'none'];
  const receiver = await startReceiver();
  const rows: OtlpBenchRow[] = [];
  try {
    const warm = makeBatches(20_000, batchEvents);
    await runPodtrace(receiver.port, warm, 20_000, 'gzip');
    await runOfficial(receiver.port, warm, 20_000, 'gzip');
    for (const compression of compressions) {
      for (const exporter of ['podtrace', 'opentelemetry-js'] as const) {
        const batches = makeBatches(total, batchEvents);
        const before = await receiver.bytes();
        const m =
          exporter === 'podtrace'
            ? await runPodtrace(receiver.port, batches, total, compression)
            : await runOfficial(receiver.port, batches, total, compression);
        rows.push({
          exporter,
          compression,
          spans: total,
          seconds: m.seconds,
          spansPerSecond: total / m.seconds,
          spansPerCpuSecond: total / m.cpuSeconds,
          requestBytes: (await receiver.bytes()) - before,
        });
      }
    }
  } finally {
    receiver.stop();
  }
  const ratio: Record<string, number> = {};
  for (const c of compressions) {
    const ours = rows.find((r) => r.exporter === 'podtrace' && r.compression === c);
    const theirs = rows.find((r) => r.exporter === 'opentelemetry-js' && r.compression === c);
    if (ours && theirs) ratio[c] = ours.spansPerSecond / theirs.spansPerSecond;
  }
  return { rows, ratio, encodeOnlySpansPerCpuSecond: encodeOnly(makeBatches(total, batchEvents), total) };
}

if (require.main === module) {
  const spans = Number(process.argv[2] ?? 200_000);
  benchOtlpSink({ spans })
    .then(({ rows, ratio, encodeOnlySpansPerCpuSecond }) => {
      console.table(
        rows.map((r) => ({
          exporter: r.exporter,
          compression: r.compression,
          spans: r.spans,
          seconds: r.seconds.toFixed(2),
          'spans/s': Math.round(r.spansPerSecond),
          'spans/cpu-s': Math.round(r.spansPerCpuSecond),
          'request bytes/span': (r.requestBytes / r.spans).toFixed(1),
        })),
      );
      console.log(`podtrace map + encode only: ${Math.round(encodeOnlySpansPerCpuSecond)} spans/cpu-s`);
      for (const [c, v] of Object.entries(ratio))
        console.log(`podtrace / opentelemetry-js (${c}): ${v.toFixed(2)}x`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
