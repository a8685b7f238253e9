import { createServer } from 'node:net';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import type { Message, Producer, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';
import * as protobuf from 'protobufjs';
import { silentLogger } from '../../../src/core/logger';
import { EVENT_GROUPS, EVENT_NAMES } from '../../../src/events/event-kind';
import type { PodtraceEvent } from '../../../src/events/event';
import type { KafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { createKafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { Metrics } from '../../../src/telemetry/metrics';
import { NODE_NAME, makeEvents } from '../../helpers/kafka-events';
import { KafkaMock, kafkajsRead, kafkaMockMissing, kcatMissing, kcatRead } from '../../helpers/kafka-mock';
import { OtlpReceiver, flattenRequest } from '../../helpers/otlp-receiver';
import type { ReceivedSpan } from '../../helpers/otlp-receiver';
import { createBatchMapping } from '../../../src/sinks/spans/batch-mapping';
import { createOtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { validateConfig } from '../../../src/config/load-config';
import type { KcatRecord } from '../../helpers/kafka-mock';
import { assertValid, kafkaValidatorFor, validateKafkaLoss } from '../../helpers/kafka-schemas';
import { EVENT_TOPICS, kafkaSinkConfig } from '../../helpers/kafka-sink-config';
import { describeIf } from '../../helpers/prereq';
import { waitUntil } from '../../helpers/wait-until';

const TOPICS = EVENT_TOPICS;

const kafkaConfig = kafkaSinkConfig;

async function counter(c: Metrics['sinkExported']): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}

function feed(sink: KafkaSink, events: PodtraceEvent[], batchSize = 100): void {
  for (let i = 0; i < events.length; i += batchSize) sink.consume({ events: events.slice(i, i + batchSize) });
}

function expectedKey(e: PodtraceEvent): string {
  if (e.meta === null) return `unknown:${NODE_NAME}`;
  if (e.meta.host) return `host:${NODE_NAME}`;
  return e.meta.podUid ?? e.meta.containerId ?? '';
}

/** Reads the event topics with kcat and returns the records with their parsed values. */
function readEvents(mock: KafkaMock): { rec: KcatRecord; value: Record<string, unknown> }[] {
  return TOPICS.flatMap((t) => kcatRead(mock.bootstrap, t)).map((rec) => ({
    rec,
    value: JSON.parse(rec.payload ?? 'null') as Record<string, unknown>,
  }));
}

function seqsOf(records: { value: Record<string, unknown> }[]): number[] {
  return records.map((r) => r.value['event.seq'] as number).sort((a, b) => a - b);
}

const protoRoot = new protobuf.Root();
protoRoot.resolvePath = (_origin, target) => join(__dirname, '..', '..', 'helpers', 'proto', target);
protoRoot.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
const ExportTraceServiceRequest = protoRoot.lookupType(
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('KafkaSink', () => {
  describe('lifecycle without a cluster', () => {
    async function closedPort(): Promise<number> {
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      const port = (srv.address() as { port: number }).port;
      await new Promise<void>((r) => srv.close(() => r()));
      return port;
    }

    it('shuts down without start(), counting what it held as dropped', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig([`127.0.0.1:${await closedPort()}`]), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
      });
      sink.consume({ events: makeEvents(5) });
      await sink.shutdown();
      await sink.shutdown();
      expect(await metrics.droppedCount('kafka', 'shutdown')).toBe(5);
      sink.consume({ events: makeEvents(3) });
      expect(await metrics.droppedCount('kafka', 'shutdown')).toBe(8);
    });

    it('re-sends only the messages of partitions that kafkajs resolved without an acknowledgement', async () => {
      const metadata = [0, 1, 2].map((id) => ({
        partitionId: id,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      const calls: { topic: string; partition: number; message: Message; acked: boolean }[][] = [];
      const spy = jest.spyOn(Kafka.prototype, 'producer').mockImplementation((cfg?: ProducerConfig) => {
        const partition = cfg!.createPartitioner!();
        const fake = {
          connect: () => Promise.resolve(),
          disconnect: () => Promise.resolve(),
          sendBatch: ({ topicMessages }: ProducerBatch): Promise<RecordMetadata[]> => {
            const first = calls.length === 0;
            const call = topicMessages!.flatMap((tm) =>
              tm.messages.map((message) => {
                const p = partition({ topic: tm.topic, partitionMetadata: metadata, message });
                return { topic: tm.topic, partition: p, message, acked: !(first && p === 0) };
              }),
            );
            calls.push(call);
            const acked = new Map<string, RecordMetadata>();
            for (const c of call)
              if (c.acked)
                acked.set(`${c.topic}/${c.partition}`, {
                  topicName: c.topic,
                  partition: c.partition,
                  errorCode: 0,
                });
            return Promise.resolve([...acked.values()]);
          },
        };
        return fake as unknown as Producer;
      });
      try {
        const metrics = new Metrics();
        const sink = createKafkaSink(kafkaConfig(['127.0.0.1:9']), {
          logger: silentLogger(),
          metrics,
          nodeName: NODE_NAME,
        });
        await sink.start();
        sink.consume({ events: makeEvents(60) });
        await sink.flush();
        await sink.shutdown();
        expect(calls.length).toBeGreaterThanOrEqual(2);
        const unacked = calls[0]!.filter((c) => !c.acked);
        expect(unacked.length).toBeGreaterThan(0);
        // Sends are per topic: the re-send is the next send to the first send's topic.
        const resend = calls.slice(1).find((call) => call[0]?.topic === calls[0]![0]!.topic)!;
        expect(resend.map((c) => c.message)).toEqual(unacked.map((c) => c.message));
        const delivered = calls
          .flat()
          .filter((c) => c.acked && c.topic !== 'podtrace.loss')
          .map((c) => (JSON.parse(String(c.message.value)) as { 'event.seq': number })['event.seq'])
          .sort((a, b) => a - b);
        expect(delivered).toEqual(range(1, 60));
        expect(await counter(metrics.sinkRetried)).toBe(1);
      } finally {
        spy.mockRestore();
      }
    });

    it('keeps up to maxInFlight sends in flight over disjoint partitions, each partition in seq order, through retries', async () => {
      const metadata = [0, 1, 2, 3, 4].map((id) => ({
        partitionId: id,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      // Sends complete in a scrambled order (a seeded generator picks which in-flight send answers
      // next); every third send fails once with a retriable error before it is accepted.
      let rnd = 7;
      const next = (n: number): number => {
        rnd = (rnd * 1103515245 + 12345) % 2147483648;
        return rnd % n;
      };
      const waiting: (() => void)[] = [];
      const answerOne = (): void => {
        if (waiting.length === 0) return;
        waiting.splice(next(waiting.length), 1)[0]!();
        setImmediate(answerOne);
      };
      const inFlight = new Set<string>();
      let maxConcurrent = 0;
      let concurrent = 0;
      let overlaps = 0;
      let sends = 0;
      const delivered = new Map<string, number[]>();
      const spy = jest.spyOn(Kafka.prototype, 'producer').mockImplementation((cfg?: ProducerConfig) => {
        const partition = cfg!.createPartitioner!();
        const fake = {
          connect: () => Promise.resolve(),
          disconnect: () => Promise.resolve(),
          sendBatch: ({ topicMessages }: ProducerBatch): Promise<RecordMetadata[]> => {
            const fail = ++sends % 3 === 0;
            const call = topicMessages!.flatMap((tm) =>
              tm.messages.map((message) => ({
                tp: `${tm.topic}/${partition({ topic: tm.topic, partitionMetadata: metadata, message })}`,
                message,
              })),
            );
            const tps = new Set(call.map((c) => c.tp));
            for (const tp of tps) if (inFlight.has(tp)) overlaps++;
            for (const tp of tps) inFlight.add(tp);
            maxConcurrent = Math.max(maxConcurrent, ++concurrent);
            return new Promise((resolve, reject) => {
              waiting.push(() => {
                concurrent--;
                for (const tp of tps) inFlight.delete(tp);
                if (fail) {
                  reject(
                    Object.assign(new Error('request timed out'), { name: 'KafkaJSRequestTimeoutError' }),
                  );
                  return;
                }
                for (const c of call) {
                  if (c.tp.startsWith('podtrace.loss')) continue;
                  const seq = (JSON.parse(String(c.message.value)) as { 'event.seq': number })['event.seq'];
                  (delivered.get(c.tp) ?? delivered.set(c.tp, []).get(c.tp)!).push(seq);
                }
                resolve(
                  [...tps].map((tp) => ({
                    topicName: tp.slice(0, tp.lastIndexOf('/')),
                    partition: Number(tp.slice(tp.lastIndexOf('/') + 1)),
                    errorCode: 0,
                  })),
                );
              });
              setImmediate(answerOne);
            });
          },
        };
        return fake as unknown as Producer;
      });
      try {
        const metrics = new Metrics();
        const sink = createKafkaSink(
          kafkaConfig(['127.0.0.1:9'], { maxInFlight: 3, batch: { maxRecords: 40, maxDelayMs: 0 } }),
          { logger: silentLogger(), metrics, nodeName: NODE_NAME },
        );
        await sink.start();
        const events = makeEvents(3000);
        feed(sink, events);
        await sink.flush();
        await sink.shutdown();

        expect(overlaps).toBe(0);
        expect(maxConcurrent).toBe(3);
        expect(await counter(metrics.sinkRetried)).toBeGreaterThan(0);
        expect(await metrics.droppedCount()).toBe(0);
        const all = [...delivered.values()].flat().sort((a, b) => a - b);
        expect(all).toEqual(range(1, events.length));
        for (const seqs of delivered.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        for (const [tp, seqs] of delivered) {
          const keys = new Set(seqs.map((q) => expectedKey(events[q - 1]!)));
          for (const [otherTp, other] of delivered)
            if (otherTp !== tp && otherTp.split('/')[0] === tp.split('/')[0])
              for (const q of other) expect(keys.has(expectedKey(events[q - 1]!))).toBe(false);
        }
      } finally {
        spy.mockRestore();
      }
    });

    it('keeps retrying an unreachable broker and gives up at the shutdown deadline', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig([`127.0.0.1:${await closedPort()}`]), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
        shutdownTimeoutMs: 1500,
      });
      await sink.start();
      sink.consume({ events: makeEvents(10) });
      await waitUntil('a retry', async () => (await counter(metrics.sinkRetried)) >= 1);
      expect(sink.ready().ready).toBe(false);
      await sink.shutdown();
      expect(await metrics.droppedCount('kafka', 'shutdown')).toBe(10);
      expect(await counter(metrics.sinkExported)).toBe(0);
    });
  });
});

describeIf(kafkaMockMissing() ?? kcatMissing())('KafkaSink against the librdkafka mock cluster', () => {
  let mock: KafkaMock;

  beforeEach(async () => {
    mock = await KafkaMock.start({ brokers: 3, topics: TOPICS.map((t) => `${t}:3:3`) });
  });

  afterEach(async () => {
    await mock.stop();
  });

  describe('.consume', () => {
    it('writes every event to its group topic, keyed by workload, schema-valid, in per-key order, with no seq gaps', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig(mock.brokers), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
      });
      await sink.start();
      const events = makeEvents(2400);
      feed(sink, events);
      await sink.shutdown();

      expect(await metrics.droppedCount()).toBe(0);
      const records = readEvents(mock);
      expect(records).toHaveLength(events.length);
      expect(seqsOf(records)).toEqual(range(1, events.length));

      const partitionsByKey = new Map<string, Set<number>>();
      const lastSeq = new Map<string, { offset: number; seq: number }[]>();
      for (const { rec, value } of records) {
        assertValid(
          kafkaValidatorFor(value['event.name']),
          value,
          `record ${rec.topic}/${rec.partition}@${rec.offset}`,
        );
        const seq = value['event.seq'] as number;
        const e = events[seq - 1]!;
        expect(value['event.name']).toBe(EVENT_NAMES[e.kind]);
        expect(rec.topic).toBe(`podtrace.${EVENT_GROUPS[e.kind]}`);
        expect(rec.key).toBe(expectedKey(e));
        // No per-record headers on event records: the value says its schema (`podtrace.schema`).
        expect(rec.headers).toEqual({});
        expect(value['podtrace.schema']).toBe(1);
        const tk = `${rec.topic} ${rec.key}`;
        (partitionsByKey.get(tk) ?? partitionsByKey.set(tk, new Set()).get(tk)!).add(rec.partition);
        (lastSeq.get(tk) ?? lastSeq.set(tk, []).get(tk)!).push({ offset: rec.offset, seq });
      }
      expect(partitionsByKey.size).toBe(
        new Set(events.map((e) => `podtrace.${EVENT_GROUPS[e.kind]} ${expectedKey(e)}`)).size,
      );
      for (const parts of partitionsByKey.values()) expect(parts.size).toBe(1);
      for (const list of lastSeq.values()) {
        const byOffset = [...list].sort((a, b) => a.offset - b.offset).map((x) => x.seq);
        expect(byOffset).toEqual([...byOffset].sort((a, b) => a - b));
      }

      const loss = kcatRead(mock.bootstrap, 'podtrace.loss');
      expect(loss).toHaveLength(1);
      const lossValue = JSON.parse(loss[0]!.payload!) as Record<string, unknown>;
      assertValid(validateKafkaLoss, lossValue, 'loss record');
      expect(lossValue).toMatchObject({
        'event.seq.first': 1,
        'event.seq.last': events.length,
        'dropped.total': 0,
        drops: [],
      });
      expect(loss[0]!.key).toBe(NODE_NAME);
      expect(await counter(metrics.sinkExported)).toBe(events.length + 1);
    });
  });

  describe('otlp_proto', () => {
    it('writes ExportTraceServiceRequest records that decode to the spans of the events, next to the json records', async () => {
      await mock.create('otlp_spans', 3, 3);
      const metrics = new Metrics();
      const cfg = kafkaConfig(mock.brokers, { encodings: ['json', 'otlp_proto'], otlpSpansPerRecord: 100 });
      const sink = createKafkaSink(cfg, {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
        bootId: 'b00710d0-0000-4000-8000-000000000000',
        hostName: 'host-a',
      });
      await sink.start();
      const events = makeEvents(960);
      feed(sink, events);
      await sink.shutdown();
      expect(await metrics.droppedCount()).toBe(0);
      expect(seqsOf(readEvents(mock))).toEqual(range(1, 960));

      const exported = await counter(metrics.sinkExported);
      const otlpRecords = exported - 960 - 1;
      expect(otlpRecords).toBeGreaterThanOrEqual(960 / 100);
      const records = await kafkajsRead(mock.brokers, 'otlp_spans', otlpRecords);
      const spans = records.flatMap((r) => {
        expect(r.headers['content-type']).toBe('application/x-protobuf');
        expect(r.key).toBe(NODE_NAME);
        const body = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.value), {
          longs: String,
          bytes: Buffer,
          enums: String,
          defaults: true,
          oneofs: true,
        });
        return flattenRequest(body);
      });
      const byName = (name: string): number => spans.filter((x) => x.name === name).length;
      for (const name of ['tcp.connect', 'tcp.accept', 'tcp.close', 'tcp.retransmit', 'oom.kill']) {
        expect(byName(name)).toBe(events.filter((e) => EVENT_NAMES[e.kind] === name).length);
      }
      for (const x of spans) expect(x.resource['k8s.node.name']).toBe(NODE_NAME);
      const podSpans = spans.filter(
        (x) => x.resource['k8s.pod.uid'] === '1f0e2a3b-0000-4000-8000-000000000001',
      );
      expect(podSpans.length).toBeGreaterThan(0);
      expect(
        podSpans.every(
          (x) => x.resource['k8s.namespace.name'] === 'shop' && x.resource['k8s.pod.name'] === 'cart-7d9f',
        ),
      ).toBe(true);
    });
  });

  describe('otlp_proto with a mapping shared with the OTLP sink', () => {
    it('sends the OTLP receiver exactly the spans of the Kafka records (each span encoded once, copied for the other)', async () => {
      await mock.create('otlp_spans', 3, 3);
      const receiver = new OtlpReceiver();
      await receiver.start(0);
      try {
        const deps = {
          logger: silentLogger(),
          nodeName: NODE_NAME,
          hostName: 'host-a',
          bootId: 'b00710d0-0000-4000-8000-000000000000',
          instanceId: 'run-1',
        };
        const mapping = createBatchMapping({ ...deps, spans: true, logs: false, env: {} });
        const kafkaMetrics = new Metrics();
        const kafka = createKafkaSink(
          kafkaConfig(mock.brokers, { encodings: ['otlp_proto'], otlpSpansPerRecord: 64 }),
          { ...deps, metrics: kafkaMetrics, mapping },
        );
        const otlpMetrics = new Metrics();
        const otlpCfg = validateConfig({
          sinks: {
            otlp: {
              enabled: true,
              endpoint: `http://${receiver.address}`,
              batch: { maxDelayMs: 20 },
            },
          },
        }).sinks.otlp;
        const otlp = createOtlpSink(otlpCfg, {
          ...deps,
          metrics: otlpMetrics,
          env: {},
          shutdownTimeoutMs: 20_000,
        });
        await Promise.all([kafka.start(), otlp.start()]);
        const events = makeEvents(1500);
        for (let i = 0; i < events.length; i += 100) {
          const batch = { events: events.slice(i, i + 100) };
          // Both orders the pipeline could hand a batch in.
          if ((i / 100) % 2 === 0) {
            kafka.consume(batch);
            otlp.consume(batch);
          } else {
            otlp.consume(batch);
            kafka.consume(batch);
          }
        }
        await Promise.all([kafka.shutdown(), otlp.shutdown()]);
        expect(await kafkaMetrics.droppedCount()).toBe(0);
        expect(await otlpMetrics.droppedCount()).toBe(0);
        const records = await kafkajsRead(
          mock.brokers,
          'otlp_spans',
          (await counter(kafkaMetrics.sinkExported)) - 1,
        );
        const fromKafka = records.flatMap((r) =>
          flattenRequest(
            ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(r.value), {
              longs: String,
              bytes: Buffer,
              enums: String,
              defaults: true,
              oneofs: true,
            }),
          ),
        );
        const canon = (spans: ReceivedSpan[]): string[] =>
          spans
            .map((x) =>
              JSON.stringify({
                ...x,
                startTimeUnixNano: String(x.startTimeUnixNano),
                endTimeUnixNano: String(x.endTimeUnixNano),
                events: x.events.map((e) => ({ ...e, timeUnixNano: String(e.timeUnixNano) })),
              }),
            )
            .sort();
        expect(fromKafka.length).toBeGreaterThan(1000);
        expect(canon(receiver.spans)).toEqual(canon(fromKafka));
      } finally {
        await receiver.stop();
      }
    });
  });

  describe('outages', () => {
    it('loses nothing when a broker goes down and its partitions move to another leader', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig(mock.brokers), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
      });
      await sink.start();
      const events = makeEvents(1200);
      feed(sink, events.slice(0, 600));
      await waitUntil('the first half delivered', async () => (await counter(metrics.sinkExported)) >= 600);
      await mock.down(1);
      for (const t of TOPICS) for (let p = 0; p < 3; p++) await mock.leader(t, p, 2);
      feed(sink, events.slice(600));
      await waitUntil('the second half delivered', async () => (await counter(metrics.sinkExported)) >= 1200);
      expect(sink.ready().ready).toBe(true);
      await mock.up(1);
      await sink.shutdown();
      expect(await metrics.droppedCount()).toBe(0);
      expect(seqsOf(readEvents(mock))).toEqual(range(1, 1200));
    });

    it('buffers through a cluster-wide outage shorter than the buffer and delivers everything after', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig(mock.brokers, { buffer: { maxRecords: 5000 } }), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
      });
      await sink.start();
      const events = makeEvents(1500);
      feed(sink, events.slice(0, 300));
      await waitUntil('delivery before the outage', async () => (await counter(metrics.sinkExported)) >= 300);
      await mock.down(-1);
      feed(sink, events.slice(300));
      await waitUntil('retries during the outage', async () => (await counter(metrics.sinkRetried)) >= 2);
      // The mock cluster's brokers go down within a second or so (sends in between may still pass):
      // the sink must report the outage while it lasts.
      await waitUntil('not ready during the outage', () => !sink.ready().ready);
      await mock.up(-1);
      await waitUntil('delivery after the outage', async () => (await counter(metrics.sinkExported)) >= 1500);
      await waitUntil('readiness after the outage', () => sink.ready().ready);
      await sink.shutdown();
      expect(await metrics.droppedCount()).toBe(0);
      const seqs = seqsOf(readEvents(mock));
      expect([...new Set(seqs)]).toEqual(range(1, 1500));
    });

    it('drops the oldest events when an outage outlasts the buffer, counts them and reports them in loss records', async () => {
      const metrics = new Metrics();
      const cfg = kafkaConfig(mock.brokers, {
        buffer: { maxRecords: 300, dropPolicy: 'oldest' },
        batch: { maxRecords: 100, maxDelayMs: 10 },
        lossReportSeconds: 1,
      });
      const sink = createKafkaSink(cfg, { logger: silentLogger(), metrics, nodeName: NODE_NAME });
      await sink.start();
      const events = makeEvents(1100);
      feed(sink, events.slice(0, 100));
      await waitUntil('delivery before the outage', async () => (await counter(metrics.sinkExported)) >= 100);
      await mock.down(-1);
      feed(sink, events.slice(100));
      await waitUntil('retries during the outage', async () => (await counter(metrics.sinkRetried)) >= 2);
      await mock.up(-1);
      await waitUntil('the buffer drained', () => sink.bufferedEvents === 0);
      await waitUntil('readiness after the outage', () => sink.ready().ready);
      await sink.shutdown();

      const dropped = await metrics.droppedCount('kafka', 'buffer_full');
      const seqs = [...new Set(seqsOf(readEvents(mock)))];
      expect(dropped).toBeGreaterThan(0);
      expect(seqs.length + dropped).toBe(1100);
      expect(seqs.slice(-300)).toEqual(range(801, 1100));
      expect(seqs.slice(0, 100)).toEqual(range(1, 100));

      const loss = kcatRead(mock.bootstrap, 'podtrace.loss').map(
        (r) => JSON.parse(r.payload!) as Record<string, unknown>,
      );
      loss.forEach((v) => assertValid(validateKafkaLoss, v, 'loss record'));
      const reported = loss
        .flatMap((v) => v.drops as { stage: string; reason: string; count: number }[])
        .filter((d) => d.stage === 'kafka' && d.reason === 'buffer_full')
        .reduce((s, d) => s + d.count, 0);
      expect(reported).toBe(dropped);
      const last = loss[loss.length - 1]!;
      expect(last['event.seq.last'] === null || last['event.seq.last'] === 1100).toBe(true);
      expect(Math.max(...loss.map((v) => (v['event.seq.last'] as number | null) ?? 0))).toBe(1100);
    });
  });
});
