import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout (journald and log shippers read them as they are).
 * `PODTRACE_LOG_LEVEL` sets the level (default info). Components take a child logger
 * named after themselves: `rootLogger.child({ component: 'kafka' })`.
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? process.env.PODTRACE_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { name: 'podtrace' }, timestamp: pino.stdTimeFunctions.isoTime },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
