import type { JsonSchema } from '../config/schema-types';
import { EVENT_NAMES } from '../events/event-kind';

export const DEFAULT_SYNTHETIC_EVENTS_PER_SECOND = 10_000;
export const DEFAULT_SYNTHETIC_PODS = 200;
export const DEFAULT_SYNTHETIC_CONTAINERS_PER_POD = 2;
/** 0 = until shutdown. */
export const DEFAULT_SYNTHETIC_DURATION_SECONDS = 0;
export const DEFAULT_SYNTHETIC_BATCH_EVENTS = 4096;
/** Like the eBPF source's drain interval: how often the generator wakes to produce what is due. */
export const DEFAULT_SYNTHETIC_TICK_MS = 2;
/** Like the kernel ring: events due but not yet taken beyond this many bytes are lost (counted). */
export const DEFAULT_SYNTHETIC_RING_BUFFER_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SYNTHETIC_MIX: Readonly<Record<string, number>> = {
  'process.exec': 1,
  'process.exit': 1,
  'process.fork': 1,
  'tcp.connect': 2,
  'tcp.accept': 1,
  'tcp.close': 2,
  'tcp.retransmit': 0.2,
  'oom.kill': 0,
};

export interface SyntheticSourceConfig {
  /** Offered rate; 0 = as fast as the pipeline takes them (no loss accounting). */
  eventsPerSecond: number;
  /** Relative weight per event name (`process.exec`, `tcp.connect`, ...). */
  mix: Record<string, number>;
  pods: number;
  containersPerPod: number;
  durationSeconds: number;
  batchEvents: number;
  tickMs: number;
  ringBufferBytes: number;
}

export const syntheticSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    eventsPerSecond: {
      type: 'number',
      minimum: 0,
      maximum: 100_000_000,
      default: DEFAULT_SYNTHETIC_EVENTS_PER_SECOND,
    },
    // A map (event name → weight): the kinds left out are not generated.
    mix: {
      type: 'object',
      propertyNames: { enum: Object.values(EVENT_NAMES) },
      additionalProperties: { type: 'number', minimum: 0 },
      default: { ...DEFAULT_SYNTHETIC_MIX },
    },
    pods: { type: 'integer', minimum: 1, maximum: 1_000_000, default: DEFAULT_SYNTHETIC_PODS },
    containersPerPod: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      default: DEFAULT_SYNTHETIC_CONTAINERS_PER_POD,
    },
    durationSeconds: { type: 'number', minimum: 0, default: DEFAULT_SYNTHETIC_DURATION_SECONDS },
    batchEvents: { type: 'integer', minimum: 1, maximum: 1_000_000, default: DEFAULT_SYNTHETIC_BATCH_EVENTS },
    tickMs: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_SYNTHETIC_TICK_MS },
    ringBufferBytes: {
      type: 'integer',
      minimum: 4096,
      maximum: 1073741824,
      default: DEFAULT_SYNTHETIC_RING_BUFFER_BYTES,
    },
  },
};

/** Problems the schema cannot express, each naming its key. */
export function syntheticConfigProblems(config: SyntheticSourceConfig): string[] {
  const total = Object.values(config.mix).reduce((a, b) => a + b, 0);
  return total > 0
    ? []
    : [`source.synthetic.mix: ${JSON.stringify(config.mix)} must give some kind a weight above 0`];
}
