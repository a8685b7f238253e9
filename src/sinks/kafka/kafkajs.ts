/**
 * kafkajs as podtrace uses it: every runtime import of kafkajs in src/ goes through this module,
 * so the linear per-partition grouping (kafkajs-grouping.ts, imported first) is in Node's module
 * cache before kafkajs loads its producer.
 */
import { kafkajsGrouping } from './kafkajs-grouping';

export { kafkajsGrouping };
export { CompressionCodecs, CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
