/**
 * kafkajs as podtrace uses it: every runtime import of kafkajs in src/ goes through this module,
 * so kafkajs's per-record internals are replaced (kafkajs-overrides.ts, imported first) before
 * kafkajs loads them.
 */
import { kafkajsOverrides } from './kafkajs-overrides';

export { kafkajsOverrides };
export { CompressionCodecs, CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
