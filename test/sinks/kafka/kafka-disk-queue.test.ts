import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/logger';
import type { PodtraceEvent } from '../../../src/events/event';
import type { KafkaSinkConfig } from '../../../src/sinks/kafka/kafka-config';
import type { KafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { createKafkaSink } from '../../../src/sinks/kafka/kafka-sink';
import { Metrics } from '../../../src/telemetry/metrics';
import { NODE_NAME, makeEvents } from '../../helpers/kafka-events';
import { KafkaMock, kafkaMockMissing, kcatMissing, kcatRead } from '../../helpers/kafka-mock';
import { EVENT_TOPICS, kafkaSinkConfig } from '../../helpers/kafka-sink-config';
import { describeIf } from '../../helpers/prereq';
import { waitUntil } from '../../helpers/wait-until';

const TOPICS = EVENT_TOPICS;
/** The outage the issue asks the disk queue to ride out in CI (the 10-minute case is sized in docs/operations.md). */
const OUTAGE_MS = 60_000;
const OUTAGE_RATE = 500;
/** A backlog of an outage this long takes a while to drain on a loaded CI machine. */
const LONG_WAIT_MS = 90_000;

function kafkaConfig(brokers: string[], dir: string, extra: Record<string, unknown> = {}): KafkaSinkConfig {
  return kafkaSinkConfig(brokers, {
    // A memory buffer far smaller than the outage: only the disk queue can hold it.
    buffer: { maxRecords: 2000 },
    retry: { initialBackoffMs: 50, maxBackoffMs: 1000 },
    queue: { storage: 'disk', dir },
    ...extra,
  });
}

async function exported(metrics: Metrics): Promise<number> {
  return (await metrics.sinkExported.get()).values.reduce((s, v) => s + v.value, 0);
}

async function retried(metrics: Metrics): Promise<number> {
  return (await metrics.sinkRetried.get()).values.reduce((s, v) => s + v.value, 0);
}

async function metricSum(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (m === undefined) return 0;
  return (await m.get()).values
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

function feed(sink: KafkaSink, events: PodtraceEvent[], batchSize = 100): void {
  for (let i = 0; i < events.length; i += batchSize) sink.consume({ events: events.slice(i, i + batchSize) });
}

/** Every json record on the event topics (kcat, an independent librdkafka consumer): event.seq per instance id. */
function delivered(mock: KafkaMock): { seq: number; instance: string }[] {
  return TOPICS.flatMap((t) => kcatRead(mock.bootstrap, t)).map((r) => {
    const v = JSON.parse(r.payload ?? 'null') as Record<string, unknown>;
    return { seq: v['event.seq'] as number, instance: v['podtrace.instance.id'] as string };
  });
}

const distinctSeqs = (records: { seq: number }[]): number[] =>
  [...new Set(records.map((r) => r.seq))].sort((a, b) => a - b);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeIf(kafkaMockMissing() ?? kcatMissing())(
  'KafkaSink with queue.storage: disk (librdkafka mock cluster)',
  () => {
    let mock: KafkaMock;
    let dir: string;

    beforeEach(async () => {
      mock = await KafkaMock.start({ brokers: 1, topics: TOPICS.map((t) => `${t}:2:1`) });
      dir = mkdtempSync(join(tmpdir(), 'podtrace-kafka-dq-'));
    });

    afterEach(async () => {
      await mock.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it(`loses nothing while the brokers are down for ${OUTAGE_MS / 1000} s at ${OUTAGE_RATE} ev/s, 15 times the memory buffer`, async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(kafkaConfig(mock.brokers, dir), {
        logger: silentLogger(),
        metrics,
        nodeName: NODE_NAME,
      });
      await sink.start();
      const before = makeEvents(500);
      feed(sink, before);
      await waitUntil(
        'delivery before the outage',
        async () => (await exported(metrics)) >= 500,
        LONG_WAIT_MS,
      );
      await mock.down(-1);
      const total = 500 + (OUTAGE_MS / 1000) * OUTAGE_RATE;
      let fed = 500;
      const t0 = Date.now();
      while (fed < total) {
        const due = Math.min(total, 500 + Math.floor(((Date.now() - t0) / 1000) * OUTAGE_RATE));
        if (due > fed) feed(sink, makeEvents(due - fed, fed));
        fed = Math.max(fed, due);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(sink.bufferedEvents).toBeGreaterThan(2000);
      expect(await metricSum(metrics, 'podtrace_queue_disk_bytes', { queue: 'kafka' })).toBeGreaterThan(0);
      await mock.up(-1);
      await waitUntil('the backlog delivered', () => sink.bufferedEvents === 0, LONG_WAIT_MS);
      await sink.shutdown();
      expect(await metrics.droppedCount('kafka')).toBe(0);
      expect(distinctSeqs(delivered(mock))).toEqual(range(1, total));
      expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeLessThanOrEqual(1);
    }, 180_000);

    it('over queue.maxBytes drops the oldest, counted exactly: delivered + disk_queue_full = produced', async () => {
      const metrics = new Metrics();
      const sink = createKafkaSink(
        kafkaConfig(mock.brokers, dir, { queue: { storage: 'disk', dir, maxBytes: 1 << 20 } }),
        {
          logger: silentLogger(),
          metrics,
          nodeName: NODE_NAME,
        },
      );
      await sink.start();
      feed(sink, makeEvents(200));
      await waitUntil(
        'delivery before the outage',
        async () => (await exported(metrics)) >= 200,
        LONG_WAIT_MS,
      );
      await mock.down(-1);
      // Wait until the cluster is really gone (sends in the first second may still pass).
      feed(sink, makeEvents(1, 200));
      await waitUntil('retries during the outage', async () => (await retried(metrics)) >= 2, LONG_WAIT_MS);
      const produced = 12_001;
      for (let i = 201; i < produced; i += 1000) {
        feed(sink, makeEvents(Math.min(1000, produced - i), i));
        await new Promise((r) => setTimeout(r, 20));
      }
      const dropped = await metrics.droppedCount('kafka', 'disk_queue_full');
      expect(dropped).toBeGreaterThan(0);
      await mock.up(-1);
      await waitUntil('the backlog delivered', () => sink.bufferedEvents === 0, LONG_WAIT_MS);
      await sink.shutdown();
      expect(await metrics.droppedCount('kafka')).toBe(dropped);
      const seqs = distinctSeqs(delivered(mock));
      expect(seqs.length + dropped).toBe(produced);
      // The newest survived; the oldest were dropped (the first events were delivered before the outage).
      expect(seqs.slice(0, 200)).toEqual(range(1, 200));
      expect(seqs.at(-1)).toBe(produced);
    }, 120_000);

    it('restarted on a segment cut short mid-record (power loss): skips the cut record, counts it, delivers the rest first', async () => {
      await mock.down(-1);
      const m1 = new Metrics();
      const first = createKafkaSink(kafkaConfig(mock.brokers, dir), {
        logger: silentLogger(),
        metrics: m1,
        nodeName: NODE_NAME,
      });
      await first.start();
      feed(first, makeEvents(5000));
      await first.shutdown(Date.now() + 500);
      expect(first.keptOnDisk).toBe(5000);
      // Only the final loss record (kept in memory) could not reach the cluster.
      expect(await m1.droppedCount('kafka')).toBe(await m1.droppedCount('kafka', 'loss_record_undelivered'));
      const segs = readdirSync(dir)
        .filter((f) => f.endsWith('.seg'))
        .sort();
      const last = join(dir, segs.at(-1)!);
      truncateSync(last, statSync(last).size - 10);

      await mock.up(-1);
      const m2 = new Metrics();
      const second = createKafkaSink(kafkaConfig(mock.brokers, dir), {
        logger: silentLogger(),
        metrics: m2,
        nodeName: NODE_NAME,
      });
      expect(await metricSum(m2, 'podtrace_queue_recovered_items_total', { queue: 'kafka' })).toBe(4999);
      expect(
        await metricSum(m2, 'podtrace_queue_corrupt_total', { queue: 'kafka', defect: 'truncated' }),
      ).toBe(1);
      await second.start();
      await waitUntil('the replay delivered', () => second.bufferedEvents === 0, LONG_WAIT_MS);
      await second.shutdown();
      const records = delivered(mock);
      expect(new Set(records.map((r) => r.instance))).toEqual(new Set([first.instanceId]));
      // The last record appended (event.seq 5000) was the one cut in half.
      expect(distinctSeqs(records)).toEqual(range(1, 4999));
    }, 120_000);
  },
);
