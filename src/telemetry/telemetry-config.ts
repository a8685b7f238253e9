import type { JsonSchema } from '../config/schema-types';

/** Prometheus' registered default port for OpenTelemetry-style exporters; what the DaemonSet probes. */
export const DEFAULT_TELEMETRY_PORT = 9464;
export const DEFAULT_TELEMETRY_LISTEN = `0.0.0.0:${DEFAULT_TELEMETRY_PORT}`;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** `auto`: human-readable text when stdout is a terminal, JSON lines otherwise (journald, kubectl logs). */
export type LogFormat = 'auto' | 'json' | 'text';
export const DEFAULT_LOG_FORMAT: LogFormat = 'auto';

export interface TelemetryConfig {
  /** Serve /metrics, /healthz and /readyz. */
  enabled: boolean;
  /** `host:port` the HTTP server binds. */
  listen: string;
  log: { level: LogLevel; format: LogFormat };
}

export const telemetrySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    listen: { type: 'string', format: 'host-port', default: DEFAULT_TELEMETRY_LISTEN },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: [...LOG_LEVELS], default: DEFAULT_LOG_LEVEL },
        format: { enum: ['auto', 'json', 'text'], default: DEFAULT_LOG_FORMAT },
      },
    },
  },
};
