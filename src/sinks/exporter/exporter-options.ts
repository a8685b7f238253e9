import type { DropPolicy } from '../../core/bounded-queue';
import type { Logger } from '../../core/logger';
import type { Metrics } from '../../telemetry/metrics';
import type { ItemCodec } from './disk-queue';
import type { DropReasons } from './drop-reasons';
import type { RetryConfig } from './retry-policy';
import type { ExportTransport } from './send-outcome';

export interface ExporterOptions<T, R> {
  /** The `stage`/`sink` label of the metrics (`otlp`, `kafka`). */
  stage: string;
  logger: Logger;
  metrics: Metrics;
  transport: ExportTransport<T, R>;
  /**
   * Items waiting for a batch, and the bytes they and the batches in flight hold; past either
   * bound `dropPolicy` decides. The byte bound counts `sizeOf` plus `itemOverheadBytes` per item
   * (the objects and string headers an item holds in memory beyond its encoded size, measured by
   * `bench/retained-bytes.ts`), so it bounds the sink's share of the heap, not only its queue.
   */
  queue: { maxItems: number; maxBytes: number; dropPolicy: DropPolicy; itemOverheadBytes?: number };
  /** A batch is sent when it holds `maxItems` items or `maxBytes` bytes, or its oldest item waited `maxDelayMs`. */
  batch: { maxItems: number; maxBytes: number; maxDelayMs: number };
  /** Sends in flight at once (a batch waiting for its retry does not hold one). */
  concurrency: number;
  /** Batches of one key in flight at once: 1 keeps a key's order (Kafka topics), more for unordered data. */
  perKeyConcurrency: number;
  retry: RetryConfig;
  /** Per-attempt deadline (never past the shutdown deadline). */
  timeoutMs: number;
  sizeOf: (item: T) => number;
  /** The key a batch is formed and sent under; a failing key never holds up the others. Default: one key. */
  keyOf?: (item: T) => string;
  /** How many events an item stands for, the unit drops are counted in (default 1). */
  eventsOf?: (item: T) => number;
  reasons?: Partial<DropReasons>;
  /**
   * `queue.storage: disk`: what is offered is appended to segment files under `dir` (bounded by
   * `maxBytes`) and read back into an in-memory window of `queue` (at most two rounds of full
   * batches for every sender); what the shutdown deadline leaves is kept for the next start.
   */
  durable?: { dir: string; dirKey: string; maxBytes: number; codec: ItemCodec<T> };
}
