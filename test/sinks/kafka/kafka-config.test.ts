import { join } from 'node:path';
import { loadConfig, validateConfig } from '../../../src/config/load-config';
import { ConfigError } from '../../../src/core/errors';
import {
  DEFAULT_KAFKA_BATCH_MAX_RECORDS,
  DEFAULT_KAFKA_MAX_IN_FLIGHT,
  DEFAULT_KAFKA_BUFFER_MAX_RECORDS,
  DEFAULT_KAFKA_LOSS_REPORT_SECONDS,
} from '../../../src/sinks/kafka/kafka-config';

const fixture = (name: string): string => join(__dirname, '..', '..', 'fixtures', 'bad-config', name);

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('kafkaSinkSchema', () => {
  describe('defaults', () => {
    it('fills every default and leaves the sink disabled', () => {
      const k = validateConfig({}).sinks.kafka;
      expect(k).toEqual({
        enabled: false,
        brokers: [],
        clientId: 'podtrace',
        encodings: ['json'],
        topicPrefix: 'podtrace.',
        topics: {},
        acks: 'all',
        compression: 'zstd',
        batch: { maxRecords: DEFAULT_KAFKA_BATCH_MAX_RECORDS, maxBytes: 4194304, maxDelayMs: 100 },
        maxInFlight: DEFAULT_KAFKA_MAX_IN_FLIGHT,
        buffer: {
          maxRecords: DEFAULT_KAFKA_BUFFER_MAX_RECORDS,
          maxBytes: 16 * 1024 * 1024,
          dropPolicy: 'oldest',
        },
        queue: { storage: 'memory', dir: '/var/lib/podtrace/queue/kafka', maxBytes: 1073741824 },
        idempotent: true,
        retry: { initialBackoffMs: 100, maxBackoffMs: 5000, maxElapsedMs: 120000 },
        maxRecordBytes: 1000000,
        lossReportSeconds: DEFAULT_KAFKA_LOSS_REPORT_SECONDS,
        otlpTopic: 'otlp_spans',
        otlpLogsTopic: 'otlp_logs',
        otlpSpansPerRecord: 500,
      });
    });

    it('takes brokers from PODTRACE_KAFKA_BROKERS, comma-separated', () => {
      const k = loadConfig(undefined, { PODTRACE_KAFKA_BROKERS: 'kafka-0.kafka:9092, [::1]:9093' }).sinks
        .kafka;
      expect(k.brokers).toEqual(['kafka-0.kafka:9092', '[::1]:9093']);
    });
  });

  describe('bad config fixtures', () => {
    it.each([
      ['kafka-broker-address.yaml', 'sinks.kafka.brokers[1]: "kafka:90x2" is not host:port'],
      [
        'kafka-unknown-encoding.yaml',
        'sinks.kafka.encodings[1]: "avro" is not one of "json", "otlp_proto", "otlp_logs"',
      ],
      ['kafka-negative-buffer.yaml', 'sinks.kafka.buffer.maxRecords: -5 must be >= 1'],
      ['kafka-negative-batch-delay.yaml', 'sinks.kafka.batch.maxDelayMs: -1 must be >= 0'],
      ['kafka-max-in-flight.yaml', 'sinks.kafka.maxInFlight: 0 must be >= 1'],
      ['kafka-max-in-flight-fraction.yaml', 'sinks.kafka.maxInFlight: 2.5 must be integer'],
      ['kafka-compression.yaml', 'sinks.kafka.compression: "brotli" is not one of "none", "gzip", "zstd"'],
      ['kafka-sasl-two-passwords.yaml', 'sinks.kafka.sasl:'],
      ['kafka-tls-cert-without-key.yaml', 'sinks.kafka.tls:'],
    ])('rejects %s naming the key and the value', (name, expected) => {
      const err = errorOf(() => loadConfig(fixture(name), {}));
      expect(err.problems.some((p) => p.startsWith(expected))).toBe(true);
    });

    it('rejects a bad PODTRACE_KAFKA_BROKERS entry by key', () => {
      const err = errorOf(() => loadConfig(undefined, { PODTRACE_KAFKA_BROKERS: 'ok:1,nope' }));
      expect(err.problems).toContain(
        'sinks.kafka.brokers[1]: "nope" is not host:port (from PODTRACE_KAFKA_BROKERS)',
      );
    });
  });
});
