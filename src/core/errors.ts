/**
 * One error hierarchy for the whole agent. Every error says whether retrying can help;
 * programming errors (TypeError, RangeError, ...) are never retried.
 */
export class PodtraceError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value is wrong. `key` is the YAML key path, e.g. `sinks.kafka.brokers[1]`. */
export class ConfigError extends PodtraceError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[] | string) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(
      list.length === 1
        ? (list[0] ?? 'invalid configuration')
        : `invalid configuration:\n  ${list.join('\n  ')}`,
    );
    this.problems = list;
  }
}

/** Retrying will not help (bad request, permission denied, unsupported kernel). */
export class PermanentError extends PodtraceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** Retrying may help; `retryAfterMs` is a server-provided hint. */
export class RetryableError extends PodtraceError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { retriable: true, cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A failure inside the native addon or a syscall, with the failed step. */
export class NativeError extends PodtraceError {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(message: string, errno: number, code: string, syscall: string) {
    super(message, { retriable: false });
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

export function isProgrammingError(err: unknown): boolean {
  return PROGRAMMING_ERRORS.some((ctor) => err instanceof ctor);
}

export function isRetriable(err: unknown): boolean {
  if (err instanceof PodtraceError) return err.retriable;
  return false;
}

export function retryDelayOf(err: unknown): number | undefined {
  return err instanceof RetryableError ? err.retryAfterMs : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
