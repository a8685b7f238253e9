import pino from 'pino';
import type { Logger } from 'pino';
import { TextLogStream } from './log-text-stream';

export type { Logger };

/**
 * Log paths pino replaces with `***` before anything is written, wherever a component logs them:
 * SASL/TLS secrets, tokens and exporter headers, at the top level, one level down and inside a
 * logged `config`. Log whole configurations through `maskSecrets()` (src/config/mask-secrets.ts)
 * as well: redaction covers known paths, masking covers every secret-named key.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.sasl.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  '*.tls.key',
  'config.sinks.kafka.sasl.password',
  'config.sinks.kafka.tls.key',
  'config.sinks.otlp.headers',
  'config.sinks.otlp.tls.key',
];

export interface LoggerOptions {
  /** Default: $PODTRACE_LOG_LEVEL, else info. */
  level?: string;
  /** `auto` (default): text when the destination (stdout unless given) is a terminal, else JSON lines. */
  format?: 'auto' | 'json' | 'text';
  /** Default: stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured JSON logs on stdout (journald and log shippers read them as they are), or one
 * readable line per record on a terminal. Components take a child logger named after themselves:
 * `rootLogger.child({ component: 'kafka' })`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.PODTRACE_LOG_LEVEL ?? 'info';
  const format = options.format ?? 'auto';
  const target = (options.destination ?? process.stdout) as { isTTY?: boolean };
  const text = format === 'text' || (format === 'auto' && target.isTTY === true);
  const base =
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ fd: 1, sync: text });
  const stream: pino.DestinationStream = text ? new TextLogStream(base) : base;
  return pino(
    {
      level,
      base: { name: 'podtrace' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_LOG_PATHS], censor: '***' },
      onChild: uniqueBindings,
    },
    stream,
  );
}

/**
 * pino appends a child's bindings to its parent's, so `log.child({ component: 'kafka' })` of a
 * logger already bound to `component` wrote the key twice (`"component":"kafka","component":"kafka"`,
 * which JSON readers resolve differently). Rebuild every child's bindings as one object: the
 * innermost value of a key wins. Children of children inherit the hook; creating a child is rare.
 */
function uniqueBindings(child: Logger): void {
  const merged = child.bindings();
  (child as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] = '';
  child.setBindings(merged);
}

/** A logger that writes nothing, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
