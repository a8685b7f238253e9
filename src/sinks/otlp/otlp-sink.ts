import { readBootId } from '../spans/boot-id';
import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import type { ReadinessProbe } from '../../core/component';
import type { Logger } from '../../core/logger';
import type { EventBatch } from '../../events/event';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import { Exporter } from '../exporter/exporter';
import { estimateSpanBytes } from '../spans/span-size';
import { SpanMapper } from '../spans/span-mapper';
import type { SpanData } from '../spans/span-model';
import { SpanResources, parseResourceAttributes } from '../spans/span-resources';
import type { OtlpSinkConfig } from './otlp-config';
import { OtlpGrpcClient } from './otlp-grpc-client';
import { resolveOtlpTarget } from './otlp-target';
import { OtlpGrpcTraceTransport } from './otlp-grpc-transport';

export const OTLP_SINK_NAME = 'otlp';
export { BOOT_ID_PATH } from '../spans/boot-id';
export const DEFAULT_OTLP_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Reasons spans are dropped, the `reason` label of podtrace_dropped_total{stage="otlp"}. */
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
 * The OTLP/gRPC trace sink: `consume()` maps events to spans synchronously (the process table must
 * see events in order) and offers them to the exporter core (src/sinks/exporter): a bounded queue
 * (spans and bytes), batches of `batch.maxSpans` / `batch.maxBytes` or whatever waited
 * `batch.maxDelayMs`, `maxConcurrentExports` in flight, retries with backoff and jitter within
 * `retry.maxElapsedMs` (the server's RetryInfo honoured), requests over the receiver's size limit
 * split. This file only maps, configures and reports.
 */
export class OtlpSink implements Sink, ReadinessProbe {
  readonly name = OTLP_SINK_NAME;

  private readonly exporter: Exporter<SpanData, Buffer>;
  private readonly mapper: SpanMapper;
  private readonly client: OtlpGrpcClient;
  private readonly evictions: Counter;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly shutdownTimeoutMs: number;
  private readonly scratch: SpanData[] = [];
  private countedEvictions = 0;
  private closing: Promise<void> | null = null;
  /** Spans not delivered by the shutdown deadline (counted as `shutdown_timeout`). */
  undeliveredAtShutdown = 0;

  constructor(config: OtlpSinkConfig, deps: OtlpSinkDeps) {
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.shutdownTimeoutMs = deps.shutdownTimeoutMs ?? DEFAULT_OTLP_SHUTDOWN_TIMEOUT_MS;
    const env = deps.env ?? process.env;
    const target = resolveOtlpTarget(config, env);
    const resourceEnv = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
    if (resourceEnv.rejected.length > 0) {
      this.logger.warn(
        { rejected: resourceEnv.rejected },
        'OTEL_RESOURCE_ATTRIBUTES: skipped malformed entries',
      );
    }
    this.mapper = new SpanMapper({
      bootId: deps.bootId ?? readBootId(deps.logger),
      resources: new SpanResources({
        hostName: deps.hostName ?? hostname(),
        nodeName: deps.nodeName,
        extraAttributes: resourceEnv.attributes,
        instanceId: deps.instanceId,
      }),
      maxTraceSeconds: config.traces.maxTraceSeconds,
      maxTrackedProcesses: config.traces.maxTrackedProcesses,
      redact: config.redact,
    });
    this.client = new OtlpGrpcClient({
      target,
      tls: config.tls,
      compression: config.compression,
      reconnectBackoffMs: { initial: config.retry.initialBackoffMs, max: config.retry.maxBackoffMs },
    });
    this.exporter = new Exporter<SpanData, Buffer>({
      stage: OTLP_SINK_NAME,
      logger: this.logger,
      metrics: this.metrics,
      transport: new OtlpGrpcTraceTransport(this.client, this.logger),
      queue: { maxItems: config.queue.maxSpans, maxBytes: config.queue.maxBytes, dropPolicy: 'newest' },
      batch: {
        maxItems: config.batch.maxSpans,
        maxBytes: config.batch.maxBytes,
        maxDelayMs: config.batch.maxDelayMs,
      },
      concurrency: config.maxConcurrentExports,
      perKeyConcurrency: config.maxConcurrentExports,
      retry: config.retry,
      timeoutMs: config.timeoutMs,
      sizeOf: estimateSpanBytes,
    });
    this.evictions = evictionCounter(deps.metrics);
    this.logger.info(
      { endpoint: target.endpoint, from: target.source, tls: target.secure, compression: config.compression },
      'OTLP sink configured',
    );
  }

  start(): Promise<void> {
    this.exporter.start();
    return Promise.resolve();
  }

  consume(batch: EventBatch): void {
    if (this.closing !== null) {
      this.metrics.drop(OTLP_SINK_NAME, OtlpDropReason.AfterShutdown, batch.events.length);
      return;
    }
    const spans = this.mapper.mapBatch(batch, this.scratch);
    this.exporter.offer(spans);
    spans.length = 0;
    const evicted = this.mapper.evictions - this.countedEvictions;
    if (evicted > 0) {
      this.evictions.inc({ sink: OTLP_SINK_NAME }, evicted);
      this.countedEvictions += evicted;
    }
  }

  /** Resolves once every span offered so far was exported or dropped. */
  flush(): Promise<void> {
    return this.exporter.flush();
  }

  ready(): { ready: boolean; detail: string } {
    const failing = this.exporter.failing();
    const queued = `queued ${this.exporter.queued} spans`;
    if (failing === null) return { ready: true, detail: queued };
    return {
      ready: true,
      detail: `exports failing since ${new Date(failing.since).toISOString()}: ${failing.error}; ${queued}`,
    };
  }

  /** Flushes until `deadlineAt` (ms since the epoch; default: now + the sink's shutdown timeout). Idempotent. */
  shutdown(deadlineAt?: number): Promise<void> {
    this.closing ??= this.close(deadlineAt ?? Date.now() + this.shutdownTimeoutMs);
    return this.closing;
  }

  private async close(deadlineAt: number): Promise<void> {
    try {
      this.undeliveredAtShutdown = await this.exporter.shutdown(deadlineAt);
      if (this.undeliveredAtShutdown > 0)
        this.logger.warn(
          { spans: this.undeliveredAtShutdown, reason: OtlpDropReason.ShutdownTimeout },
          'OTLP sink shut down before it could deliver everything; counted as dropped',
        );
    } finally {
      this.client.close();
    }
  }
}

/** Creates the OTLP trace sink (throws ConfigError for a bad endpoint, header or TLS file). */
export function createOtlpSink(config: OtlpSinkConfig, deps: OtlpSinkDeps): OtlpSink {
  return new OtlpSink(config, deps);
}
