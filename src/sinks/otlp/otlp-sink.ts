import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import type { ReadinessProbe } from '../../core/component';
import type { Logger } from '../../core/logger';
import type { EventBatch } from '../../events/event';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import { toEncodedLogRecord } from '../spans/encode-logs-request';
import { encodeEncodedItemsRequest, toEncodedSpan } from '../spans/encode-trace-request';
import type { BatchMapping } from '../spans/batch-mapping';
import { createBatchMapping } from '../spans/batch-mapping';
import type { EncodedItem, EncodedLogRecord, EncodedSpan } from '../spans/span-model';
import type { OtlpSinkConfig } from './otlp-config';
import { OTLP_LOG_RECORD_OVERHEAD_BYTES, OTLP_SPAN_OVERHEAD_BYTES } from './otlp-config';
import type { SignalExport } from './otlp-signal-exporter';
import { createSignalExport } from './otlp-signal-exporter';
import { encodedItemCodec } from './otlp-item-codec';
import { resolveOtlpTarget } from './otlp-target';

export const OTLP_SINK_NAME = 'otlp';
/** The metric stage of the logs signal (spans keep `otlp`). */
export const OTLP_LOGS_STAGE = 'otlp_logs';
export { BOOT_ID_PATH } from '../spans/boot-id';
export const DEFAULT_OTLP_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Reasons spans (log records) are dropped, the `reason` label of podtrace_dropped_total{stage="otlp"|"otlp_logs"}. */
export const OtlpDropReason = {
  QueueFull: 'queue_full',
  RetriesExhausted: 'retries_exhausted',
  Permanent: 'permanent_error',
  RejectedByServer: 'rejected_by_server',
  TooLarge: 'too_large',
  ShutdownTimeout: 'shutdown_timeout',
  AfterShutdown: 'after_shutdown',
} as const;

export interface OtlpSinkDeps {
  logger: Logger;
  metrics: Metrics;
  /** Environment for OTEL_* variables (default process.env). */
  env?: NodeJS.ProcessEnv;
  nodeName: string;
  /** `host.name` (default os.hostname()). */
  hostName?: string;
  /** Boot id scoping the deterministic ids (default: read from /proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** How long shutdown() may take to flush (default 10 s). */
  shutdownTimeoutMs?: number;
  /** `service.instance.id` of this agent run (see src/core/instance-id.ts). */
  instanceId?: string;
  /**
   * The agent's one events → OTLP mapping, shared with Kafka `otlp_proto` / `otlp_logs` (it must
   * want the signals this sink exports); default: a mapping of the sink's own.
   */
  mapping?: BatchMapping;
}

/** The byte bound's size of a queued span or log record: its encoded message and the request framing around it. */
export const encodedItemBytes = (s: EncodedItem): number => s.bytes.length + 4;

/** Offers `items` encoded to the signal's exporter, or counts them dropped when its queue is full. */
function offerEncoded<T>(
  s: SignalExport<EncodedItem>,
  items: readonly T[],
  encode: (item: T) => EncodedItem,
): void {
  if (s.exporter.dropIfFull(items.length)) return;
  const encoded = new Array<EncodedItem>(items.length);
  for (let i = 0; i < items.length; i++) encoded[i] = encode(items[i]!);
  s.exporter.offer(encoded);
}

function evictionCounter(metrics: Metrics): Counter {
  const name = 'podtrace_span_process_evictions_total';
  const existing = metrics.registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({
    name,
    help: 'Processes forgotten by the span mapper before their exit because its table was full',
    labelNames: ['sink'] as const,
    registers: [metrics.registry],
  });
}

/**
 * The OTLP sink: `consume()` maps events synchronously (the process table must see events in
 * order) in one pass into spans and/or log records (`signals`) and offers each signal to its own
 * exporter core (src/sinks/exporter): a bounded queue (items and bytes), batches of
 * `batch.maxSpans` / `batch.maxBytes` or whatever waited `batch.maxDelayMs`,
 * `maxConcurrentExports` in flight, retries with backoff and jitter within `retry.maxElapsedMs`
 * (the server's RetryInfo or Retry-After honoured), requests over the receiver's size limit split.
 * Each signal goes over gRPC or OTLP/HTTP as `protocol` (or the OTEL_* variables) say. This file
 * only maps, configures and reports.
 */
export class OtlpSink implements Sink, ReadinessProbe {
  readonly name = OTLP_SINK_NAME;

  private readonly traces: SignalExport<EncodedSpan> | null = null;
  private readonly logs: SignalExport<EncodedLogRecord> | null = null;
  private readonly mapping: BatchMapping;
  private readonly evictions: Counter;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly shutdownTimeoutMs: number;
  private countedEvictions = 0;
  private closing: Promise<void> | null = null;
  /** Spans not delivered by the shutdown deadline (counted as `shutdown_timeout`). */
  undeliveredAtShutdown = 0;
  /** Log records not delivered by the shutdown deadline. */
  undeliveredLogsAtShutdown = 0;
  /** Spans and log records the disk queues keep for the next start. */
  keptOnDisk = 0;

  constructor(config: OtlpSinkConfig, deps: OtlpSinkDeps) {
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.shutdownTimeoutMs = deps.shutdownTimeoutMs ?? DEFAULT_OTLP_SHUTDOWN_TIMEOUT_MS;
    const env = deps.env ?? process.env;
    // Resolved first: a bad endpoint, protocol or header fails before anything is opened.
    const tracesTarget = config.signals.includes('traces') ? resolveOtlpTarget(config, env, 'traces') : null;
    const logsTarget = config.signals.includes('logs') ? resolveOtlpTarget(config, env, 'logs') : null;
    this.mapping =
      deps.mapping ??
      createBatchMapping({
        spans: tracesTarget !== null,
        logs: logsTarget !== null,
        nodeName: deps.nodeName,
        hostName: deps.hostName ?? hostname(),
        bootId: deps.bootId,
        env,
        logger: this.logger,
        instanceId: deps.instanceId,
        redact: config.redact,
        maxTraceSeconds: config.traces.maxTraceSeconds,
        maxTrackedProcesses: config.traces.maxTrackedProcesses,
        // Log records point at process spans only when those spans are exported.
        logTraceContext: tracesTarget !== null,
      });
    if (
      (tracesTarget !== null && !this.mapping.wants.spans) ||
      (logsTarget !== null && !this.mapping.wants.logs)
    )
      throw new Error('OtlpSink: the shared mapping does not make the signals this sink exports');
    const common = { config, logger: this.logger, metrics: this.metrics };
    if (tracesTarget !== null)
      this.traces = createSignalExport<EncodedSpan>({
        ...common,
        signal: 'traces',
        stage: OTLP_SINK_NAME,
        target: tracesTarget,
        encode: (spans) => encodeEncodedItemsRequest(spans),
        sizeOf: encodedItemBytes,
        itemOverheadBytes: OTLP_SPAN_OVERHEAD_BYTES,
        codec: encodedItemCodec(toEncodedSpan),
      });
    if (logsTarget !== null)
      this.logs = createSignalExport<EncodedLogRecord>({
        ...common,
        signal: 'logs',
        stage: OTLP_LOGS_STAGE,
        target: logsTarget,
        encode: (records) => encodeEncodedItemsRequest(records),
        sizeOf: encodedItemBytes,
        itemOverheadBytes: OTLP_LOG_RECORD_OVERHEAD_BYTES,
        codec: encodedItemCodec(toEncodedLogRecord),
      });
    this.evictions = evictionCounter(deps.metrics);
    for (const s of this.signals())
      this.logger.info(
        {
          signal: s.signal,
          protocol: s.target.protocol,
          endpoint: s.target.url ?? s.target.endpoint,
          from: s.target.source,
          tls: s.target.secure,
          compression: config.compression,
        },
        'OTLP sink configured',
      );
  }

  private signals(): SignalExport<EncodedItem>[] {
    const out: SignalExport<EncodedItem>[] = [];
    if (this.traces !== null) out.push(this.traces);
    if (this.logs !== null) out.push(this.logs);
    return out;
  }

  start(): Promise<void> {
    for (const s of this.signals()) s.exporter.start();
    return Promise.resolve();
  }

  consume(batch: EventBatch): void {
    if (this.closing !== null) {
      for (const s of this.signals())
        this.metrics.drop(s.stage, OtlpDropReason.AfterShutdown, batch.events.length);
      return;
    }
    const mapped = this.mapping.map(batch);
    // Encoded now: what waits in the queue is bytes, not the mapped objects (see EncodedItem);
    // a full queue refuses the batch before anything is encoded for it.
    if (this.traces !== null) offerEncoded(this.traces, mapped.spans, toEncodedSpan);
    if (this.logs !== null) offerEncoded(this.logs, mapped.logs, toEncodedLogRecord);
    const evicted = this.mapping.evictions - this.countedEvictions;
    if (evicted > 0) {
      this.evictions.inc({ sink: OTLP_SINK_NAME }, evicted);
      this.countedEvictions += evicted;
    }
  }

  /** Resolves once every span and log record offered so far was exported or dropped. */
  async flush(): Promise<void> {
    await Promise.all(this.signals().map((s) => s.exporter.flush()));
  }

  ready(): { ready: boolean; detail: string } {
    const details = this.signals().map((s) => {
      const failing = s.exporter.failing();
      const queued = `queued ${s.exporter.queued} ${s.signal === 'traces' ? 'spans' : 'log records'}`;
      if (failing === null) return queued;
      return `${s.signal} exports failing since ${new Date(failing.since).toISOString()}: ${failing.error}; ${queued}`;
    });
    return { ready: true, detail: details.join('; ') };
  }

  /** Flushes until `deadlineAt` (ms since the epoch; default: now + the sink's shutdown timeout). Idempotent. */
  shutdown(deadlineAt?: number): Promise<void> {
    this.closing ??= this.close(deadlineAt ?? Date.now() + this.shutdownTimeoutMs);
    return this.closing;
  }

  private async close(deadlineAt: number): Promise<void> {
    try {
      const [spans, logs] = await Promise.all([
        this.traces?.exporter.shutdown(deadlineAt) ?? 0,
        this.logs?.exporter.shutdown(deadlineAt) ?? 0,
      ]);
      this.undeliveredAtShutdown = spans;
      this.undeliveredLogsAtShutdown = logs;
      this.keptOnDisk = (this.traces?.exporter.keptOnDisk ?? 0) + (this.logs?.exporter.keptOnDisk ?? 0);
      if (spans > 0 || logs > 0)
        this.logger.warn(
          { spans, logRecords: logs, reason: OtlpDropReason.ShutdownTimeout },
          'OTLP sink shut down before it could deliver everything; counted as dropped',
        );
    } finally {
      for (const s of this.signals()) s.client.close();
    }
  }
}

/** Creates the OTLP sink (throws ConfigError for a bad endpoint, protocol, header or TLS file). */
export function createOtlpSink(config: OtlpSinkConfig, deps: OtlpSinkDeps): OtlpSink {
  return new OtlpSink(config, deps);
}
