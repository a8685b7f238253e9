import type { JsonSchema } from '../config/schema-types';

// Placeholder section: replaced by the component that owns it.
export type EnrichConfig = Record<string, unknown> & { enabled?: boolean };

export const enrichSchema: JsonSchema = { type: 'object', default: {}, additionalProperties: true };
