import type { Logger } from '../../core/logger';
import type { EventBatch } from '../../events/event';
import { readBootId } from './boot-id';
import type { LogRecordData } from './log-model';
import { SpanMapper } from './span-mapper';
import type { SpanData } from './span-model';
import { SpanResources, parseResourceAttributes } from './span-resources';

/** What one mapping pass made of a batch. Read-only for consumers, valid until the next batch is mapped. */
export interface MappedBatch {
  /** The batch's spans (empty when spans are not wanted). */
  readonly spans: readonly SpanData[];
  /** The batch's log records, one per event (empty when logs are not wanted). */
  readonly logs: readonly LogRecordData[];
  /** After event i of the batch: `spans.length` (cut the spans by runs of events). */
  readonly spanEnds: Uint32Array;
  /** After event i of the batch: `logs.length`. */
  readonly logEnds: Uint32Array;
}

export interface BatchMappingOptions {
  /** Spans wanted (OTLP traces, Kafka `otlp_proto`). */
  spans: boolean;
  /** Log records wanted (OTLP logs, Kafka `otlp_logs`). */
  logs: boolean;
  nodeName: string;
  hostName: string;
  /** Boot id scoping the deterministic ids (default: read from /proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** `OTEL_RESOURCE_ATTRIBUTES` is read from it. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  instanceId?: string;
  redact?: readonly string[];
  maxTraceSeconds?: number;
  maxTrackedProcesses?: number;
  /** Log records carry their process span's trace context (default: when spans are wanted). */
  logTraceContext?: boolean;
}

/**
 * Events → the OTLP model, once per batch for every sink that encodes OTLP (the OTLP sink, Kafka
 * `otlp_proto` / `otlp_logs`): the pipeline hands the same batch object to each sink in turn, so
 * the first `map(batch)` runs the (stateful) SpanMapper and the others get its result. One
 * instance per agent when the sinks share it, or one per sink.
 */
export class BatchMapping {
  private lastBatch: EventBatch | null = null;
  private last: MappedBatch | null = null;
  private lastError: unknown = null;
  private spanEnds = new Uint32Array(1024);
  private logEnds = new Uint32Array(1024);

  constructor(
    private readonly mapper: SpanMapper,
    readonly wants: { readonly spans: boolean; readonly logs: boolean },
  ) {}

  /** Processes the mapper forgot before their exit because its table was full. */
  get evictions(): number {
    return this.mapper.evictions;
  }

  /**
   * The batch's spans and log records: mapped on the first call for this batch, the same result
   * (or the same error: the mapper's state must not see a batch twice) for every later call.
   */
  map(batch: EventBatch): MappedBatch {
    if (batch === this.lastBatch) {
      if (this.last === null) throw this.lastError;
      return this.last;
    }
    this.lastBatch = batch;
    this.last = null;
    this.lastError = null;
    const n = batch.events.length;
    if (this.spanEnds.length < n) {
      this.spanEnds = new Uint32Array(n * 2);
      this.logEnds = new Uint32Array(n * 2);
    }
    const spans: SpanData[] = [];
    const logs: LogRecordData[] = [];
    const spanEnds = this.spanEnds.subarray(0, n);
    const logEnds = this.logEnds.subarray(0, n);
    try {
      this.mapper.map(batch, {
        spans: this.wants.spans ? spans : null,
        logs: this.wants.logs ? logs : null,
        spanEnds,
        logEnds,
      });
    } catch (err) {
      this.lastError = err;
      throw err;
    }
    this.last = { spans, logs, spanEnds, logEnds };
    return this.last;
  }
}

/** A mapping with its own SpanMapper and resources (OTEL_RESOURCE_ATTRIBUTES parsed, rejects logged). */
export function createBatchMapping(options: BatchMappingOptions): BatchMapping {
  const resourceEnv = parseResourceAttributes(options.env.OTEL_RESOURCE_ATTRIBUTES);
  if (resourceEnv.rejected.length > 0)
    options.logger.warn(
      { rejected: resourceEnv.rejected },
      'OTEL_RESOURCE_ATTRIBUTES: skipped malformed entries',
    );
  const mapper = new SpanMapper({
    bootId: options.bootId ?? readBootId(options.logger),
    resources: new SpanResources({
      hostName: options.hostName,
      nodeName: options.nodeName,
      extraAttributes: resourceEnv.attributes,
      instanceId: options.instanceId,
    }),
    maxTraceSeconds: options.maxTraceSeconds,
    maxTrackedProcesses: options.maxTrackedProcesses,
    redact: options.redact,
    logTraceContext: options.logTraceContext ?? options.spans,
  });
  return new BatchMapping(mapper, { spans: options.spans, logs: options.logs });
}
