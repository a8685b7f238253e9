import type { JsonSchema } from '../../config/schema-types';

export type ConsoleFormat = 'text' | 'json';
export const DEFAULT_CONSOLE_FORMAT: ConsoleFormat = 'text';

export interface ConsoleSinkConfig {
  enabled: boolean;
  format: ConsoleFormat;
}

export const consoleSinkSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    format: { enum: ['text', 'json'], default: DEFAULT_CONSOLE_FORMAT },
  },
};
