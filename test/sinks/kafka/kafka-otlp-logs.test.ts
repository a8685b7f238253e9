import { validateConfig } from '../../../src/config/load-config';
import { silentLogger } from '../../../src/core/logger';
import { EVENT_NAMES } from '../../../src/events/event-kind';
import { createKafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { SEMCONV_SCHEMA_URL } from '../../../src/sinks/spans/semconv-schema';
import { Metrics } from '../../../src/telemetry/metrics';
import { NODE_NAME, makeEvents } from '../../helpers/kafka-events';
import { KafkaMock, kafkaMockMissing, kafkajsRead } from '../../helpers/kafka-mock';
import type { ReceivedLogRecord } from '../../helpers/otlp-decode';
import { decodeLogsRequest, decodeTraceRequest, flattenLogsRequest } from '../../helpers/otlp-decode';
import { flattenRequest } from '../../helpers/otlp-receiver';
import { describeIf } from '../../helpers/prereq';

describeIf(kafkaMockMissing())('KafkaSink otlp_logs against the librdkafka mock cluster', () => {
  let mock: KafkaMock;
  beforeAll(async () => {
    mock = await KafkaMock.start({ brokers: 1, topics: ['otlp_spans:2:1', 'otlp_logs:2:1'] });
  });
  afterAll(async () => {
    await mock.stop();
  });

  it('writes ExportLogsServiceRequest records to otlp_logs, one log record per event, linked to the otlp_spans spans', async () => {
    const metrics = new Metrics();
    const cfg = validateConfig({
      sinks: {
        kafka: {
          enabled: true,
          brokers: mock.brokers,
          encodings: ['otlp_proto', 'otlp_logs'],
          otlpSpansPerRecord: 100,
          lossReportSeconds: 3600,
          batch: { maxRecords: 500, maxDelayMs: 20 },
        },
      },
    }).sinks.kafka;
    expect(cfg.otlpLogsTopic).toBe('otlp_logs');
    const sink = createKafkaSink(cfg, {
      logger: silentLogger(),
      metrics,
      nodeName: NODE_NAME,
      bootId: 'b00710d0-0000-4000-8000-000000000000',
      hostName: 'host-a',
    });
    await sink.start();
    const events = makeEvents(400);
    for (let i = 0; i < events.length; i += 100) sink.consume({ events: events.slice(i, i + 100) });
    await sink.shutdown();
    expect(await metrics.droppedCount()).toBe(0);

    // As the Collector's kafkareceiver reads them: the record value is the request, protobuf.
    const logRecords = await kafkajsRead(mock.brokers, 'otlp_logs', 4);
    const logs: ReceivedLogRecord[] = logRecords.flatMap((r) => {
      expect(r.headers['content-type']).toBe('application/x-protobuf');
      return flattenLogsRequest(decodeLogsRequest(r.value));
    });
    // One log record per event (the records of one batch may be read back in another order).
    expect(logs).toHaveLength(events.length);
    const seen = logs.map((l) => `${l.eventName}@${l.timeUnixNano}`).sort();
    const sent = events
      .map((e) => `podtrace.${EVENT_NAMES[e.kind]}@${BigInt(Math.round(e.timeUnixNs))}`)
      .sort();
    expect(seen).toEqual(sent);
    for (const l of logs) {
      expect(l.resource['k8s.node.name']).toBe(NODE_NAME);
      expect(l.resourceSchemaUrl).toBe(SEMCONV_SCHEMA_URL);
      expect(l.body).toBeNull();
    }
    const spanRecords = await kafkajsRead(mock.brokers, 'otlp_spans', 4);
    const spans = spanRecords.flatMap((r) => flattenRequest(decodeTraceRequest(r.value)));
    const spanIds = new Set(spans.map((s) => s.spanId));
    // Events of processes with a span in this run point at it (process spans or their parents').
    const linked = logs.filter((l) => l.spanId !== '' && spanIds.has(l.spanId));
    expect(linked.length).toBeGreaterThan(0);
  });
});
