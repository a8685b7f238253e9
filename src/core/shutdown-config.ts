import type { JsonSchema } from '../config/schema-types';

/** How long sources, enrichment and sinks get to drain and flush after SIGTERM before podtrace gives up. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10000;
/** Kubernetes' default terminationGracePeriodSeconds is 30 s: stay well inside it. */
export const MAX_SHUTDOWN_TIMEOUT_MS = 600000;

export interface ShutdownConfig {
  timeoutMs: number;
}

export const shutdownSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    timeoutMs: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_SHUTDOWN_TIMEOUT_MS,
      default: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    },
  },
};
