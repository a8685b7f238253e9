import type { ProbeGroup } from '../events/event-kind';
import { EVENT_NAMES, PROBE_GROUPS } from '../events/event-kind';
import type { JsonSchema } from '../config/schema-types';

/** Default probe groups: those within the overhead target (BENCHMARKS.md); dns, file and sched are opt-in. */
export const DEFAULT_PROBES: readonly ProbeGroup[] = ['process', 'tcp', 'oom', 'signal'];
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

/** Signals not reported: SIGCHLD accompanies every process exit (process.exit already says it). */
export const DEFAULT_SIGNAL_IGNORE: readonly string[] = ['SIGCHLD'];
export const DEFAULT_DNS_PORTS: readonly number[] = [53];
/** A query without an answer after this long is reported with error.type=timeout. */
export const DEFAULT_DNS_TIMEOUT_MS = 5000;
/** Queries awaiting their answer in the kernel table; more are not tracked (counted). */
export const DEFAULT_DNS_MAX_INFLIGHT = 8192;
/** Reads/writes/fsyncs faster than this produce no record (filtered in the kernel); chosen in BENCHMARKS.md (scenario 6). */
export const DEFAULT_FILE_MIN_LATENCY_US = 1000;
export const DEFAULT_SCHED_INTERVAL_SECONDS = 10;

export interface EbpfSourceConfig {
  probes: ProbeGroup[];
  ringBufferBytes: number;
  argvBytes: number;
  drainIntervalMs: number;
  wakeupPercent: number;
  batchBytes: number;
  maxPendingBatches: number;
  signal: { ignore: string[] };
  dns: { ports: number[]; timeoutMs: number; maxInflight: number };
  file: { minLatencyUs: number; includePseudoFilesystems: boolean };
  sched: { intervalSeconds: number };
  rateLimit: { eventsPerSecondPerCgroup: number; perKind: Record<string, number> };
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
    signal: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ignore: {
          type: 'array',
          items: { type: 'string', pattern: '^(SIG)?[A-Z0-9+]+$' },
          uniqueItems: true,
          default: [...DEFAULT_SIGNAL_IGNORE],
        },
      },
    },
    dns: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        ports: {
          type: 'array',
          items: { type: 'integer', minimum: 1, maximum: 65535 },
          uniqueItems: true,
          minItems: 1,
          maxItems: 8,
          default: [...DEFAULT_DNS_PORTS],
        },
        timeoutMs: { type: 'integer', minimum: 10, maximum: 60000, default: DEFAULT_DNS_TIMEOUT_MS },
        maxInflight: { type: 'integer', minimum: 16, maximum: 1048576, default: DEFAULT_DNS_MAX_INFLIGHT },
      },
    },
    file: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        minLatencyUs: {
          type: 'integer',
          minimum: 0,
          maximum: 60000000,
          default: DEFAULT_FILE_MIN_LATENCY_US,
        },
        includePseudoFilesystems: { type: 'boolean', default: false },
      },
    },
    sched: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        intervalSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: DEFAULT_SCHED_INTERVAL_SECONDS,
        },
      },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        eventsPerSecondPerCgroup: { type: 'integer', minimum: 0, maximum: 1000000000, default: 0 },
        perKind: {
          type: 'object',
          propertyNames: { enum: Object.values(EVENT_NAMES) },
          additionalProperties: { type: 'integer', minimum: 1, maximum: 1000000000 },
          default: {},
        },
      },
    },
  },
};
