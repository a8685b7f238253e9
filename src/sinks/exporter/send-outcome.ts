/**
 * What a transport says about a failed send (STYLE.md: encode / send / classify):
 * - `retry`: try again after the backoff or the server's `delayMs`; `bounded: false` when the
 *   endpoint itself is unreachable (retried until shutdown: the queue bound limits the cost);
 * - `permanent`: the request is rejected as it is; retrying cannot help;
 * - `too_large`: the request is over the receiver's size limit: split it and send the halves
 *   (a single item that is too large is dropped).
 * `code` labels `podtrace_sink_failed_total{reason}` (`UNAVAILABLE`, `message_too_large`);
 * `dropReason` replaces the core's drop reason when the batch is given up (keep both bounded);
 * `hint` tells the operator what to do, logged once per failing streak.
 */
export type SendFailure = {
  code: string;
  message: string;
  dropReason?: string;
  hint?: string;
} & ({ kind: 'retry'; delayMs?: number; bounded?: boolean } | { kind: 'permanent' } | { kind: 'too_large' });

/** What a send that resolved reports. */
export interface SendResult<T> {
  /** Items the receiver accepted the request for but rejected (OTLP partial success; the transport logs why): dropped, counted. */
  rejected?: number;
  /** Items the receiver did not acknowledge (Kafka partitions without an ack): sent again, like a retryable failure. */
  unacknowledged?: T[];
}

/**
 * The transport seam of an exporter, one per protocol: OTLP/gRPC and Kafka today; OTLP/HTTP (or a
 * second signal such as logs on the same sink) plugs in as another encode / send / classify set.
 */
export interface ExportTransport<T, R> {
  /** Builds one request from items of one key (in order); null when they make nothing to send. */
  encode(items: readonly T[], key: string): R | null;
  /** The request's size (before compression), checked against `batch.maxBytes`: over it, the batch is split. */
  byteLength(request: R): number;
  /** Sends one request; rejects with an error `classify` understands. `timeoutMs` never passes the shutdown deadline. */
  send(request: R, items: readonly T[], key: string, timeoutMs: number): Promise<SendResult<T>>;
  classify(err: unknown, key: string): SendFailure;
}
