import type { JsonSchema } from './schema-types';
import { ebpfSourceSchema } from '../sources/ebpf-config';
import { replaySchema } from '../sources/replay-config';
import { syntheticSchema } from '../sources/synthetic-config';
import { consoleSinkSchema } from '../sinks/console/console-config';
import { enrichSchema } from '../enrich/enrich-config';
import { otlpSinkSchema } from '../sinks/otlp/otlp-config';
import { kafkaSinkSchema } from '../sinks/kafka/kafka-config';
import { telemetrySchema } from '../telemetry/telemetry-config';
import { shutdownSchema } from '../core/shutdown-config';
import { redactSchema } from '../events/redact-config';

/** The whole configuration file, assembled from each component's own section. */
export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    nodeName: { type: 'string', minLength: 1 },
    source: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kind: { enum: ['ebpf', 'replay', 'synthetic'], default: 'ebpf' },
        ebpf: ebpfSourceSchema,
        replay: replaySchema,
        synthetic: syntheticSchema,
      },
    },
    enrich: enrichSchema,
    filter: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        includeHost: { type: 'boolean', default: true },
        namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
        excludeNamespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
        podSelector: { type: 'string', default: '' },
      },
    },
    sinks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        console: consoleSinkSchema,
        otlp: otlpSinkSchema,
        kafka: kafkaSinkSchema,
      },
    },
    redact: redactSchema,
    telemetry: telemetrySchema,
    shutdown: shutdownSchema,
  },
};
