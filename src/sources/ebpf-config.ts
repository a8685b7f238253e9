import type { ProbeGroup } from '../events/event-kind';
import { PROBE_GROUPS } from '../events/event-kind';
import type { JsonSchema } from '../config/schema-types';

export const DEFAULT_PROBES: readonly ProbeGroup[] = ['process', 'tcp', 'oom'];
/** 8 MiB: ~80k process.exec records or ~130k tcp records of headroom. */
export const DEFAULT_RING_BUFFER_BYTES = 8 * 1024 * 1024;
export const DEFAULT_ARGV_BYTES = 512;
/** How often the drain thread empties the ring buffer when no wakeup came. */
export const DEFAULT_DRAIN_INTERVAL_MS = 2;
/** Records are submitted without waking user space until the ring is this full (percent). */
export const DEFAULT_WAKEUP_PERCENT = 50;
/** Largest batch handed to JS, in bytes. */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
/** Batches the addon holds for JS before it stops draining (the kernel ring then absorbs, and counts, the rest). */
export const DEFAULT_MAX_PENDING_BATCHES = 16;

export interface EbpfSourceConfig {
  probes: ProbeGroup[];
  ringBufferBytes: number;
  argvBytes: number;
  drainIntervalMs: number;
  wakeupPercent: number;
  batchBytes: number;
  maxPendingBatches: number;
}

export const ebpfSourceSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    probes: {
      type: 'array',
      items: { enum: [...PROBE_GROUPS] },
      uniqueItems: true,
      minItems: 1,
      default: [...DEFAULT_PROBES],
    },
    ringBufferBytes: {
      type: 'integer',
      minimum: 4096,
      maximum: 1073741824,
      powerOfTwo: true,
      default: DEFAULT_RING_BUFFER_BYTES,
    },
    argvBytes: { type: 'integer', minimum: 0, maximum: 4096, default: DEFAULT_ARGV_BYTES },
    drainIntervalMs: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_DRAIN_INTERVAL_MS },
    wakeupPercent: { type: 'integer', minimum: 1, maximum: 100, default: DEFAULT_WAKEUP_PERCENT },
    batchBytes: { type: 'integer', minimum: 4096, maximum: 67108864, default: DEFAULT_BATCH_BYTES },
    maxPendingBatches: { type: 'integer', minimum: 1, maximum: 4096, default: DEFAULT_MAX_PENDING_BATCHES },
  },
};
