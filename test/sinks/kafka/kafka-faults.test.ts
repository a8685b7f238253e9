import { silentLogger } from '../../../src/core/logger';
import { EVENT_GROUPS } from '../../../src/events/event-kind';
import type { PodtraceEvent } from '../../../src/events/event';
import type { KafkaSinkConfig } from '../../../src/sinks/kafka/kafka-config';
import type { KafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { createKafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { Metrics } from '../../../src/telemetry/metrics';
import { NODE_NAME, makeEvents } from '../../helpers/kafka-events';
import { kafkaSinkConfig } from '../../helpers/kafka-sink-config';
import { KafkaMock, kafkaMockMissing, kcatMissing, kcatRead } from '../../helpers/kafka-mock';
import { describeIf } from '../../helpers/prereq';
import { captureLogger, counterValue } from '../otlp/otlp-test-support';

const TOPICS = ['podtrace.process', 'podtrace.tcp', 'podtrace.oom'];
/** Kafka protocol error codes (the mock cluster answers with them). */
const MESSAGE_TOO_LARGE = 10;
const TOPIC_AUTHORIZATION_FAILED = 29;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;
const UNKNOWN_PRODUCER_ID = 59;
const PRODUCE = 0;

/** Smaller batches and a fast, short retry budget: the faults below are outlasted in seconds. */
function kafkaConfig(brokers: string[], extra: Record<string, unknown> = {}): KafkaSinkConfig {
  return kafkaSinkConfig(brokers, {
    batch: { maxRecords: 200, maxDelayMs: 10 },
    retry: { initialBackoffMs: 20, maxBackoffMs: 200, maxElapsedMs: 3000 },
    ...extra,
  });
}

function feed(sink: KafkaSink, events: PodtraceEvent[], batchSize = 100): void {
  for (let i = 0; i < events.length; i += batchSize) sink.consume({ events: events.slice(i, i + batchSize) });
}

/** The distinct event.seq values on `topics` (kcat, an independent librdkafka consumer). */
function seqsOn(mock: KafkaMock, topics: string[]): number[] {
  const seqs = topics
    .flatMap((t) => kcatRead(mock.bootstrap, t))
    .map((r) => (JSON.parse(r.payload!) as { 'event.seq': number })['event.seq']);
  return [...new Set(seqs)].sort((a, b) => a - b);
}

/** Every group topic the events go to (the mock cluster creates the ones not made up front). */
const topicsOf = (events: PodtraceEvent[]): string[] => [
  ...new Set(events.map((e) => `podtrace.${EVENT_GROUPS[e.kind]}`)),
];

const seqsWhere = (events: PodtraceEvent[], keep: (e: PodtraceEvent) => boolean): number[] =>
  events.flatMap((e, i) => (keep(e) ? [i + 1] : []));

describeIf(kafkaMockMissing() ?? kcatMissing())('KafkaSink faults (librdkafka mock cluster)', () => {
  let mock: KafkaMock;

  beforeEach(async () => {
    mock = await KafkaMock.start({ brokers: 3, topics: TOPICS.map((t) => `${t}:3:3`) });
  });

  afterEach(async () => {
    await mock.stop();
  });

  it('keeps the other topics flowing while the cluster refuses one, then drops its records counted by topic and says what to do once', async () => {
    await mock.topicError('podtrace.oom', TOPIC_AUTHORIZATION_FAILED);
    const metrics = new Metrics();
    const { logger, lines } = captureLogger();
    // Not idempotent: kafkajs initialises an idempotent producer with a metadata request for all
    // topics. A real broker leaves topics the client may not describe (or that do not exist) out
    // of that answer; the mock cluster lists the refused topic with its error, which would fail
    // every producer's initialisation, not the delivery this test is about.
    const sink = createKafkaSink(kafkaConfig(mock.brokers, { idempotent: false }), {
      logger,
      metrics,
      nodeName: NODE_NAME,
    });
    await sink.start();
    const events = makeEvents(1500);
    feed(sink, events);
    await sink.flush();
    await sink.shutdown();

    const isOom = (e: PodtraceEvent): boolean => EVENT_GROUPS[e.kind] === 'oom';
    expect(
      seqsOn(
        mock,
        topicsOf(events).filter((t) => t !== 'podtrace.oom'),
      ),
    ).toEqual(seqsWhere(events, (e) => !isOom(e)));
    const oom = seqsWhere(events, isOom).length;
    expect(oom).toBeGreaterThan(0);
    expect(await metrics.droppedCount('kafka', 'topic_refused:podtrace.oom')).toBe(oom);
    expect(await metrics.droppedCount('kafka')).toBe(oom);
    const gaveUp = lines.filter((l) => String(l.msg).startsWith('export gave up'));
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ key: 'podtrace.oom', reason: 'topic_refused:podtrace.oom' });
    expect(String(gaveUp[0]!.hint)).toMatch(/create topic podtrace\.oom/);
  });

  it.each([
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', OUT_OF_ORDER_SEQUENCE_NUMBER],
    ['INVALID_PRODUCER_EPOCH', INVALID_PRODUCER_EPOCH],
    ['UNKNOWN_PRODUCER_ID', UNKNOWN_PRODUCER_ID],
  ])('rebuilds the producer after %s and re-sends the batch it hit: nothing lost', async (name, code) => {
    const metrics = new Metrics();
    const { logger, lines } = captureLogger();
    const sink = createKafkaSink(kafkaConfig(mock.brokers), { logger, metrics, nodeName: NODE_NAME });
    await sink.start();
    const events = makeEvents(1200);
    feed(sink, events.slice(0, 300));
    await sink.flush();
    await mock.requestErrors(PRODUCE, [code, code, code]);
    feed(sink, events.slice(300));
    await sink.flush();
    await sink.shutdown();

    expect(
      await counterValue(metrics.sinkFailed, { sink: 'kafka', reason: name.toLowerCase() }),
    ).toBeGreaterThan(0);
    expect(lines.some((l) => l.msg === 'rebuilding the kafka producer after a fatal error')).toBe(true);
    expect(await metrics.droppedCount('kafka')).toBe(0);
    expect(seqsOn(mock, topicsOf(events))).toEqual(events.map((_, i) => i + 1));
  });

  it('splits a send the broker refuses as MESSAGE_TOO_LARGE and delivers every record', async () => {
    const metrics = new Metrics();
    const sink = createKafkaSink(kafkaConfig(mock.brokers, { maxInFlight: 1 }), {
      logger: silentLogger(),
      metrics,
      nodeName: NODE_NAME,
    });
    await sink.start();
    await mock.requestErrors(PRODUCE, [MESSAGE_TOO_LARGE, MESSAGE_TOO_LARGE]);
    const events = makeEvents(600);
    feed(sink, events);
    await sink.flush();
    await sink.shutdown();
    expect(
      await counterValue(metrics.sinkFailed, { sink: 'kafka', reason: 'message_too_large' }),
    ).toBeGreaterThan(0);
    expect(await metrics.droppedCount('kafka')).toBe(0);
    expect(seqsOn(mock, topicsOf(events))).toEqual(events.map((_, i) => i + 1));
  });
});

describeIf(kafkaMockMissing() ?? kcatMissing())('KafkaSink faults (one-broker mock cluster)', () => {
  let mock: KafkaMock;

  beforeEach(async () => {
    // One broker, one partition per topic: every send is one produce request, so each injected
    // error hits exactly one attempt.
    mock = await KafkaMock.start({ brokers: 1, topics: TOPICS.map((t) => `${t}:1:1`) });
  });

  afterEach(async () => {
    await mock.stop();
  });

  it('drops a single record the broker keeps refusing as too large, counted as too_large, and delivers the rest', async () => {
    const metrics = new Metrics();
    const sink = createKafkaSink(
      kafkaConfig(mock.brokers, { maxInFlight: 1, batch: { maxRecords: 4, maxDelayMs: 10 } }),
      { logger: silentLogger(), metrics, nodeName: NODE_NAME },
    );
    await sink.start();
    const events = makeEvents(40);
    feed(sink, events.slice(0, 1));
    await sink.flush();
    // 4 records → 2 + 2 → 1 + 1 (+ the other half): enough refusals that one single record is refused too.
    await mock.requestErrors(PRODUCE, [MESSAGE_TOO_LARGE, MESSAGE_TOO_LARGE, MESSAGE_TOO_LARGE]);
    feed(sink, events.slice(1));
    await sink.flush();
    await sink.shutdown();
    const dropped = await metrics.droppedCount('kafka', 'too_large');
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(await metrics.droppedCount('kafka')).toBe(dropped);
    expect(seqsOn(mock, topicsOf(events)).length + dropped).toBe(events.length);
  });
});
