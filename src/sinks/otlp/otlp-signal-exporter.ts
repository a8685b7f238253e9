import { join } from 'node:path';
import type { Logger } from '../../core/logger';
import type { Metrics } from '../../telemetry/metrics';
import type { ItemCodec } from '../exporter/disk-queue';
import { Exporter } from '../exporter/exporter';
import { grpcSendFailure } from './grpc-retry';
import type { OtlpSinkConfig } from './otlp-config';
import { DEFAULT_OTLP_QUEUE_MAX_BYTES } from './otlp-config';
import { OtlpGrpcClient } from './otlp-grpc-client';
import { httpSendFailure } from './otlp-http-classify';
import { OtlpHttpClient } from './otlp-http-client';
import type { OtlpSignal } from './otlp-signal';
import { OTLP_GRPC_METHODS } from './otlp-signal';
import type { OtlpTarget } from './otlp-target';
import type { OtlpExportClient } from './otlp-transport';
import { OtlpTransport } from './otlp-transport';

/** One signal of the OTLP sink: where it goes, the client, and the exporter core delivering it. */
export interface SignalExport<T> {
  signal: OtlpSignal;
  /** The `stage`/`sink` metric label: `otlp` (spans, as before logs existed) or `otlp_logs`. */
  stage: string;
  target: OtlpTarget;
  client: OtlpExportClient;
  exporter: Exporter<T, Buffer>;
}

export interface SignalExportOptions<T> {
  signal: OtlpSignal;
  stage: string;
  target: OtlpTarget;
  config: OtlpSinkConfig;
  logger: Logger;
  metrics: Metrics;
  encode: (items: readonly T[]) => Buffer;
  sizeOf: (item: T) => number;
  /** Memory an item holds beyond `sizeOf`, counted by the queue's byte bound. */
  itemOverheadBytes: number;
  /** How items are written to the disk queue (used with `queue.storage: disk`). */
  codec: ItemCodec<T>;
}

/** The client of a resolved target: gRPC (TraceService or LogsService) or OTLP/HTTP. */
function clientFor(target: OtlpTarget, config: OtlpSinkConfig, logger: Logger): OtlpExportClient {
  if (target.protocol === 'http/protobuf')
    return new OtlpHttpClient({
      target,
      tls: config.tls,
      compression: config.compression,
      maxSockets: config.maxConcurrentExports,
      logger,
    });
  return new OtlpGrpcClient({
    target,
    tls: config.tls,
    compression: config.compression,
    reconnectBackoffMs: { initial: config.retry.initialBackoffMs, max: config.retry.maxBackoffMs },
    method: OTLP_GRPC_METHODS[target.signal],
  });
}

/**
 * Builds one signal's delivery: the protocol's client and classification plugged into the
 * exporter core as an encode / send / classify transport, with the sink's queue, batch, retry
 * and concurrency settings (each signal gets its own, so a logs backend that is down never holds
 * up spans).
 */
export function createSignalExport<T>(o: SignalExportOptions<T>): SignalExport<T> {
  const { config, target } = o;
  const client = clientFor(target, config, o.logger);
  const classify = target.protocol === 'http/protobuf' ? httpSendFailure : grpcSendFailure;
  const exporter = new Exporter<T, Buffer>({
    stage: o.stage,
    logger: o.logger,
    metrics: o.metrics,
    transport: new OtlpTransport<T>({
      signal: o.signal,
      client,
      encode: o.encode,
      classify,
      logger: o.logger,
    }),
    // On disk `maxBytes` bounds the files; the in-memory read-ahead keeps the memory default.
    queue: {
      maxItems: config.queue.maxSpans,
      maxBytes: config.queue.storage === 'disk' ? DEFAULT_OTLP_QUEUE_MAX_BYTES : config.queue.maxBytes,
      dropPolicy: 'newest',
      itemOverheadBytes: o.itemOverheadBytes,
    },
    batch: {
      maxItems: config.batch.maxSpans,
      maxBytes: config.batch.maxBytes,
      maxDelayMs: config.batch.maxDelayMs,
    },
    concurrency: config.maxConcurrentExports,
    perKeyConcurrency: config.maxConcurrentExports,
    retry: config.retry,
    timeoutMs: config.timeoutMs,
    sizeOf: o.sizeOf,
    ...(config.queue.storage === 'disk'
      ? {
          durable: {
            dir: join(config.queue.dir, o.signal),
            dirKey: 'sinks.otlp.queue.dir',
            maxBytes: config.queue.maxBytes,
            codec: o.codec,
          },
        }
      : {}),
  });
  return { signal: o.signal, stage: o.stage, target, client, exporter };
}
