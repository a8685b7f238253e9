import { validateConfig } from '../../src/config/load-config';
import type { KafkaSinkConfig } from '../../src/sinks/kafka/kafka-config';

/** Every topic the Kafka sink writes event records to with the default prefix. */
export const EVENT_TOPICS: readonly string[] = [
  'podtrace.process',
  'podtrace.tcp',
  'podtrace.oom',
  'podtrace.signal',
  'podtrace.dns',
  'podtrace.file',
  'podtrace.sched',
];

/**
 * A validated `sinks.kafka` section for tests against the mock cluster: enabled, no periodic loss
 * record, 500-record batches after 20 ms, then `section`'s keys on top.
 */
export function kafkaSinkConfig(brokers: string[], section: Record<string, unknown> = {}): KafkaSinkConfig {
  return validateConfig({
    sinks: {
      kafka: {
        enabled: true,
        brokers,
        lossReportSeconds: 3600,
        batch: { maxRecords: 500, maxDelayMs: 20 },
        ...section,
      },
    },
  }).sinks.kafka;
}
