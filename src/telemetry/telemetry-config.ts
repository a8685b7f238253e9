import type { JsonSchema } from '../config/schema-types';

// Placeholder section: replaced by the component that owns it.
export type TelemetryConfig = Record<string, unknown> & { enabled?: boolean };

export const telemetrySchema: JsonSchema = { type: 'object', default: {}, additionalProperties: true };
