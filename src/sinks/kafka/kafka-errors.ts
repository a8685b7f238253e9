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

/** The innermost kafkajs protocol error type (`TOPIC_AUTHORIZATION_FAILED`), or null. */
export function kafkaErrorType(err: unknown): string | null {
  const c = (unwrap(err) ?? {}) as KafkaJsErrorShape;
  return typeof c.type === 'string' ? c.type : null;
}

/** Errors that leave an idempotent producer's sequence state out of step with the broker's: rebuild it. */
export const FATAL_PRODUCER_ERRORS: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** The cluster refuses the topic itself (missing with auto-create off, not authorized, invalid name). */
export const TOPIC_ERRORS: ReadonlySet<string> = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_TOPIC_EXCEPTION',
]);

/** A record or a request over the broker's size limit (`message.max.bytes`, `max.request.size`). */
export const TOO_LARGE_ERRORS: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
