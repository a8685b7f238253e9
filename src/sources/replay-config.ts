import type { JsonSchema } from '../config/schema-types';

/** Events per second; 0 = as fast as the pipeline takes them. */
export const DEFAULT_REPLAY_RATE = 0;
export const DEFAULT_REPLAY_LOOP = false;
/** Most events handed down the pipeline in one batch when pacing a rate. */
export const DEFAULT_REPLAY_MAX_BATCH_EVENTS = 4096;

export interface ReplaySourceConfig {
  /** A file written by `podtrace record`. Required when `source.kind` is `replay`. */
  file: string;
  rate: number;
  loop: boolean;
  maxBatchEvents: number;
}

export const replaySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    file: { type: 'string', default: '' },
    rate: { type: 'number', minimum: 0, maximum: 100_000_000, default: DEFAULT_REPLAY_RATE },
    loop: { type: 'boolean', default: DEFAULT_REPLAY_LOOP },
    maxBatchEvents: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: DEFAULT_REPLAY_MAX_BATCH_EVENTS,
    },
  },
};

/** Checks what the schema cannot: `file` is required for this source kind. */
export function replayConfigProblems(config: ReplaySourceConfig): string[] {
  return config.file === '' ? ['source.replay.file: "" is required when source.kind is replay'] : [];
}
