import {
  PermanentError,
  PodtraceError,
  RetryableError,
  errorMessage,
  isProgrammingError,
} from '../../core/errors';

/** kafkajs errors that mean "the cluster is (temporarily) unreachable or moving". */
const RETRIABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

interface KafkaJsErrorShape {
  name?: unknown;
  retriable?: unknown;
  cause?: unknown;
  type?: unknown;
}

/** kafkajs wrappers that mark "my own retries are used up", whatever the underlying failure. */
const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);

/** The innermost error kafkajs wrapped when its own retries ran out. */
function unwrap(err: unknown): unknown {
  let cur: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const shape = (cur ?? {}) as KafkaJsErrorShape;
    if (
      typeof shape.name === 'string' &&
      WRAPPERS.has(shape.name) &&
      shape.cause !== undefined &&
      shape.cause !== null &&
      shape.cause !== cur
    ) {
      cur = shape.cause;
      continue;
    }
    break;
  }
  return cur;
}

/**
 * Maps a kafkajs failure onto podtrace's error hierarchy. kafkajs wraps the last error of its own
 * retries in KafkaJSNumberOfRetriesExceeded or KafkaJSNonRetriableError (both marked
 * non-retriable); what counts is the cause:
 * connection loss, timeouts, leader moves (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE) are
 * retriable; rejected records (MESSAGE_TOO_LARGE, authorization) are not.
 */
export function classifyKafkaError(err: unknown): PodtraceError {
  if (err instanceof PodtraceError) return err;
  const cur = unwrap(err);
  if (isProgrammingError(cur)) return new PermanentError(errorMessage(err), err);
  const shape = (cur ?? {}) as KafkaJsErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : '';
  const detail = typeof shape.type === 'string' ? `${shape.type}: ${errorMessage(cur)}` : errorMessage(cur);
  if (shape.retriable === true || RETRIABLE_NAMES.has(name))
    return new RetryableError(detail, { cause: err });
  return new PermanentError(detail, err);
}

/** A short label for metrics (`sink_failed_total{reason}`): the protocol error type or the error name. */
export function kafkaFailureReason(err: unknown): string {
  const c = (unwrap(err) ?? {}) as KafkaJsErrorShape;
  if (typeof c.type === 'string') return c.type.toLowerCase();
  if (typeof c.name === 'string') return c.name.replace(/^KafkaJS/, '').toLowerCase() || 'error';
  return 'error';
}
