import { readBootId } from '../spans/boot-id';
import { hostname } from 'node:os';
import { Counter } from 'prom-client';
import { BoundedQueue } from '../../core/bounded-queue';
import type { ReadinessProbe } from '../../core/component';
import { onceShutdown } from '../../core/component';
import { PermanentError, errorMessage, isRetriable, isTooLarge, retryDelayOf } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { EventBatch } from '../../events/event';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import { groupByResource } from '../spans/resource-spans';
import { SpanMapper } from '../spans/span-mapper';
import type { SpanData } from '../spans/span-model';
import { SpanResources, parseResourceAttributes } from '../spans/span-resources';
import type { OtlpSinkConfig } from './otlp-config';
import type { ExportOutcome } from './otlp-grpc-client';
import { OtlpGrpcClient } from './otlp-grpc-client';
import { OtlpHttpClient, httpExportFailureOf } from './otlp-http-client';
import { resolveOtlpTarget } from './otlp-target';
import { grpcStatusOf } from './grpc-retry';

export const OTLP_SINK_NAME = 'otlp';
export { BOOT_ID_PATH } from '../spans/boot-id';
export const DEFAULT_OTLP_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Jitter of retry delays: each is drawn from [d·(1-f), d·(1+f)] (the Collector's default factor). */
const RETRY_JITTER = 0.5;

/** Reasons spans are dropped, the `reason` label of podtrace_dropped_total{stage="otlp"}. */
export const OtlpDropReason = {
  QueueFull: 'queue_full',
  RetriesExhausted: 'retries_exhausted',
  Permanent: 'permanent_error',
  RejectedByServer: 'rejected_by_server',
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
 * The OTLP/gRPC trace sink. `consume()` maps events to spans synchronously (the process table must
 * see events in order) and queues the spans in a bounded queue (drops counted as `queue_full`).
 * Export runs in the background: batches of `batch.maxSpans` or whatever is queued after
 * `batch.maxDelayMs`, at most `maxConcurrentExports` at a time, each retried with exponential
 * backoff and jitter while the error is retriable and `retry.maxElapsedMs` allows.
 */
export class OtlpSink implements Sink, ReadinessProbe {
  readonly name = OTLP_SINK_NAME;
  readonly shutdown: () => Promise<void>;

  private readonly queue: BoundedQueue<SpanData>;
  private readonly mapper: SpanMapper;
  private readonly client: OtlpGrpcClient | OtlpHttpClient;
  private readonly evictions: Counter;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly shutdownTimeoutMs: number;
  private readonly scratch: SpanData[] = [];
  private started = false;
  private closing = false;
  private inFlight = 0;
  private delayTimer: NodeJS.Timeout | null = null;
  private delayExpired = false;
  private countedEvictions = 0;
  private lastError: string | null = null;
  private shutdownDeadlineAt: number | null = null;
  private failingSince: number | null = null;
  private readonly waiters = new Set<() => void>();
  /** Aborted when the shutdown deadline passes: pending retry sleeps give up. */
  private readonly deadline = new AbortController();

  constructor(
    private readonly config: OtlpSinkConfig,
    deps: OtlpSinkDeps,
  ) {
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
      }),
      maxTraceSeconds: config.traces.maxTraceSeconds,
      maxTrackedProcesses: config.traces.maxTrackedProcesses,
      redact: config.redact,
    });
    this.queue = new BoundedQueue<SpanData>(config.queue.maxSpans, 'newest');
    this.client =
      target.protocol === 'http/protobuf'
        ? new OtlpHttpClient({
            target,
            tls: config.tls,
            compression: config.compression,
            maxSockets: config.maxConcurrentExports,
            logger: this.logger,
          })
        : new OtlpGrpcClient({
            target,
            tls: config.tls,
            compression: config.compression,
            reconnectBackoffMs: { initial: config.retry.initialBackoffMs, max: config.retry.maxBackoffMs },
          });
    this.evictions = evictionCounter(deps.metrics);
    this.logger.info(
      {
        protocol: target.protocol,
        endpoint: target.url ?? target.endpoint,
        from: target.source,
        tls: target.secure,
        compression: config.compression,
      },
      'OTLP sink configured',
    );
    this.shutdown = onceShutdown(() => this.close());
  }

  start(): Promise<void> {
    this.started = true;
    this.pump();
    return Promise.resolve();
  }

  consume(batch: EventBatch): void {
    if (this.closing) {
      this.metrics.drop(OTLP_SINK_NAME, OtlpDropReason.AfterShutdown, batch.events.length);
      return;
    }
    const spans = this.mapper.mapBatch(batch, this.scratch);
    let dropped = 0;
    for (const span of spans) if (!this.queue.push(span)) dropped++;
    spans.length = 0;
    if (dropped > 0) this.metrics.drop(OTLP_SINK_NAME, OtlpDropReason.QueueFull, dropped);
    const evicted = this.mapper.evictions - this.countedEvictions;
    if (evicted > 0) {
      this.evictions.inc({ sink: OTLP_SINK_NAME }, evicted);
      this.countedEvictions += evicted;
    }
    this.pump();
  }

  ready(): { ready: boolean; detail: string } {
    if (this.failingSince === null) return { ready: true, detail: `queued ${this.queue.length} spans` };
    return {
      ready: true,
      detail: `exports failing since ${new Date(this.failingSince).toISOString()}: ${this.lastError ?? ''}; queued ${this.queue.length} spans`,
    };
  }

  /** Starts exports while there is room: full batches always, partial ones after the delay or when flushing. */
  private pump(): void {
    const maxSpans = this.config.batch.maxSpans;
    if (this.started || this.closing) {
      while (this.inFlight < this.config.maxConcurrentExports && this.queue.length > 0) {
        if (this.queue.length < maxSpans && !this.delayExpired && !this.closing) break;
        this.delayExpired = false;
        const spans = this.queue.drain(maxSpans);
        this.inFlight++;
        void this.exportBatch(spans).finally(() => {
          this.inFlight--;
          this.pump();
          this.notify();
        });
      }
    }
    this.metrics.queueDepth.set({ queue: OTLP_SINK_NAME }, this.queue.length);
    if (this.queue.length > 0 && this.delayTimer === null && !this.closing) {
      this.delayTimer = setTimeout(() => {
        this.delayTimer = null;
        this.delayExpired = true;
        this.pump();
      }, this.config.batch.maxDelayMs);
      this.delayTimer.unref();
    }
  }

  private notify(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private async exportBatch(spans: SpanData[]): Promise<void> {
    const body = encodeExportTraceServiceRequest(groupByResource(spans));
    const { initialBackoffMs, maxBackoffMs, maxElapsedMs } = this.config.retry;
    const firstAttempt = Date.now();
    let backoff = initialBackoffMs;
    for (;;) {
      const t0 = process.hrtime.bigint();
      let outcome: ExportOutcome | undefined;
      let failure: unknown;
      try {
        outcome = await this.client.export(body, this.callTimeoutMs());
      } catch (err) {
        failure = err;
      }
      this.metrics.sinkExportLatency.observe(
        { sink: OTLP_SINK_NAME },
        Number(process.hrtime.bigint() - t0) / 1e9,
      );
      if (outcome !== undefined) {
        this.onExported(spans.length, outcome);
        return;
      }
      const reason = errorMessage(failure);
      this.metrics.sinkFailed.inc({
        sink: OTLP_SINK_NAME,
        reason: httpExportFailureOf(failure)?.code ?? grpcStatusOf(failure),
      });
      this.noteFailure(reason);
      if (isTooLarge(failure) && spans.length > 1) {
        // Over the receiver's size limit: the halves go separately.
        const half = Math.ceil(spans.length / 2);
        await this.exportBatch(spans.slice(0, half));
        await this.exportBatch(spans.slice(half));
        return;
      }
      if (!isRetriable(failure)) {
        this.dropBatch(spans.length, OtlpDropReason.Permanent, failure);
        return;
      }
      const jittered = backoff * (1 - RETRY_JITTER + Math.random() * 2 * RETRY_JITTER);
      const delay = retryDelayOf(failure) ?? jittered;
      backoff = Math.min(backoff * 2, maxBackoffMs);
      if (Date.now() + delay - firstAttempt > maxElapsedMs) {
        this.dropBatch(spans.length, OtlpDropReason.RetriesExhausted, failure);
        return;
      }
      if (this.deadline.signal.aborted || !(await this.sleep(delay))) {
        this.dropBatch(spans.length, OtlpDropReason.ShutdownTimeout, failure);
        return;
      }
      this.metrics.sinkRetried.inc({ sink: OTLP_SINK_NAME });
      this.logger.debug(
        { spans: spans.length, delayMs: Math.round(delay), err: reason },
        'OTLP export retry',
      );
    }
  }

  /** The per-call deadline; while closing, never past the shutdown deadline. */
  private callTimeoutMs(): number {
    if (this.shutdownDeadlineAt === null) return this.config.timeoutMs;
    return Math.max(1, Math.min(this.config.timeoutMs, this.shutdownDeadlineAt - Date.now()));
  }

  private onExported(n: number, outcome: ExportOutcome): void {
    const rejected = Math.min(n, outcome.rejectedSpans);
    if (rejected > 0 || outcome.errorMessage !== '') {
      this.logger.warn(
        { rejectedSpans: outcome.rejectedSpans, message: outcome.errorMessage },
        'OTLP receiver reported partial success',
      );
      this.metrics.drop(OTLP_SINK_NAME, OtlpDropReason.RejectedByServer, rejected);
    }
    this.metrics.sinkExported.inc({ sink: OTLP_SINK_NAME }, n - rejected);
    if (this.failingSince !== null) {
      this.logger.info({ failedForMs: Date.now() - this.failingSince }, 'OTLP export recovered');
      this.failingSince = null;
      this.lastError = null;
    }
  }

  private noteFailure(reason: string): void {
    if (this.failingSince === null) {
      this.failingSince = Date.now();
      this.logger.warn({ err: reason }, 'OTLP export failing');
    }
    this.lastError = reason;
  }

  private dropBatch(n: number, reason: string, err: unknown): void {
    this.metrics.drop(OTLP_SINK_NAME, reason, n);
    this.logger.warn({ spans: n, reason, err: errorMessage(err) }, 'OTLP export dropped spans');
  }

  /** Resolves true after `ms`, or false as soon as the shutdown deadline passes. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const signal = this.deadline.signal;
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      if (!this.closing) timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private waitForProgress(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  private async close(): Promise<void> {
    this.closing = true;
    this.shutdownDeadlineAt = Date.now() + this.shutdownTimeoutMs;
    if (this.delayTimer !== null) {
      clearTimeout(this.delayTimer);
      this.delayTimer = null;
    }
    const deadlineTimer = setTimeout(() => {
      this.deadline.abort();
      this.notify();
    }, this.shutdownTimeoutMs);
    try {
      this.pump();
      while ((this.queue.length > 0 || this.inFlight > 0) && !this.deadline.signal.aborted) {
        await this.waitForProgress();
        this.pump();
      }
      if (this.queue.length > 0) {
        const left = this.queue.drain();
        this.dropBatch(
          left.length,
          OtlpDropReason.ShutdownTimeout,
          new PermanentError('shutdown deadline passed'),
        );
      }
      while (this.inFlight > 0) await this.waitForProgress();
    } finally {
      clearTimeout(deadlineTimer);
      this.metrics.queueDepth.set({ queue: OTLP_SINK_NAME }, 0);
      this.client.close();
    }
  }
}

/** Creates the OTLP trace sink (throws ConfigError for a bad endpoint, header or TLS file). */
export function createOtlpSink(config: OtlpSinkConfig, deps: OtlpSinkDeps): OtlpSink {
  return new OtlpSink(config, deps);
}
