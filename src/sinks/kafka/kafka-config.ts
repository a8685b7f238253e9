import type { JsonSchema } from '../../config/schema-types';

// Placeholder section: replaced by the component that owns it.
export type KafkaSinkConfig = Record<string, unknown> & { enabled?: boolean };

export const kafkaSinkSchema: JsonSchema = { type: 'object', default: {}, additionalProperties: true };
