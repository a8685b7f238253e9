import type { JsonSchema } from '../../config/schema-types';

// Placeholder section: replaced by the component that owns it.
export type OtlpSinkConfig = Record<string, unknown> & { enabled?: boolean };

export const otlpSinkSchema: JsonSchema = { type: 'object', default: {}, additionalProperties: true };
