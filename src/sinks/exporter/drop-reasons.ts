/**
 * The `reason` labels of `podtrace_dropped_total{stage=<sink>}` the exporter core counts under.
 * A sink may rename them (the Kafka sink keeps its `buffer_full`/`shutdown` names); every name is
 * documented in docs/operations.md#delivery.
 */
export interface DropReasons {
  /** The queue was full (items or bytes). */
  queueFull: string;
  /** A retryable failure outlasted `retry.maxElapsedMs`. */
  retriesExhausted: string;
  /** The receiver rejected the request for good. */
  permanent: string;
  /** Accepted request, items rejected inside it (OTLP partial success). */
  rejectedByServer: string;
  /** A single item over the receiver's size limit. */
  tooLarge: string;
  /** Still queued or in flight when the shutdown deadline passed. */
  shutdownTimeout: string;
  /** Offered after shutdown began. */
  afterShutdown: string;
  /** The oldest records of a disk queue over its `queue.maxBytes`. */
  diskFull: string;
}

export const DEFAULT_DROP_REASONS: Readonly<DropReasons> = Object.freeze({
  queueFull: 'queue_full',
  retriesExhausted: 'retries_exhausted',
  permanent: 'permanent_error',
  rejectedByServer: 'rejected_by_server',
  tooLarge: 'too_large',
  shutdownTimeout: 'shutdown_timeout',
  afterShutdown: 'after_shutdown',
  diskFull: 'disk_queue_full',
});
