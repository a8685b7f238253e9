import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventBatch } from '../../../src/events/event';
import { silentLogger } from '../../../src/core/logger';
import { DiskQueue } from '../../../src/sinks/exporter/disk-queue';
import { otlpItemCodec } from '../../../src/sinks/otlp/otlp-item-codec';
import { createOtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { createBatchMapping } from '../../../src/sinks/spans/batch-mapping';
import type { LogRecordData } from '../../../src/sinks/spans/log-model';
import type { SpanData, SpanResource } from '../../../src/sinks/spans/span-model';
import type { OtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { Metrics } from '../../../src/telemetry/metrics';
import { TEST_BOOT_ID } from '../../helpers/events';
import { makeEvents } from '../../helpers/kafka-events';
import { OtlpReceiver } from '../../helpers/otlp-receiver';
import type { ReceivedSpan } from '../../helpers/otlp-receiver';
import type { ReceivedLogRecord } from '../../helpers/otlp-decode';
import { counterValue, eventually, otlpConfig, otlpSinkDeps } from './otlp-test-support';

const FAST_RETRY = { initialBackoffMs: 10, maxBackoffMs: 100, maxElapsedMs: 600_000 };

function sink(endpoint: string, metrics: Metrics, queue: Record<string, unknown> = {}): OtlpSink {
  return createOtlpSink(
    otlpConfig({
      endpoint: `http://${endpoint}`,
      batch: { maxDelayMs: 20, maxSpans: 256 },
      retry: FAST_RETRY,
      signals: ['traces', 'logs'],
      queue,
    }),
    otlpSinkDeps(metrics),
  );
}

const batches = (): EventBatch[] => {
  const events = makeEvents(3000);
  const out: EventBatch[] = [];
  for (let i = 0; i < events.length; i += 100) out.push({ events: events.slice(i, i + 100) });
  return out;
};
async function recovered(metrics: Metrics, queue: string): Promise<number> {
  return (await metrics.queueRecovered.get()).values
    .filter((v) => v.labels.queue === queue)
    .reduce((sum, v) => sum + v.value, 0);
}

/** A span as the receiver decoded it, in a form two runs can be compared by. */
const key = (s: ReceivedSpan): string =>
  JSON.stringify([
    s.traceId,
    s.spanId,
    s.parentSpanId,
    s.name,
    String(s.startTimeUnixNano),
    s.attributes,
    s.resource,
  ]);

describe('OtlpSink with queue.storage: disk', () => {
  let dir: string;
  const receivers: OtlpReceiver[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'podtrace-otlp-dq-'));
  });

  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function receiver(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    await r.start(0);
    receivers.push(r);
    return r;
  }

  /** What the same events make when the collector is up all along (memory queue). */
  async function referenceRun(): Promise<OtlpReceiver> {
    const ref = await receiver();
    const refSink = sink(ref.address, new Metrics());
    await refSink.start();
    for (const b of batches()) refSink.consume(b);
    await refSink.flush();
    await refSink.shutdown();
    return ref;
  }

  it('keeps spans and log records through a collector outage and an agent restart: the next run delivers exactly what a run without outage did', async () => {
    const ref = await referenceRun();
    expect(ref.spans.length).toBeGreaterThan(1000);
    expect(ref.logs.length).toBe(3000);

    // The collector is down for the whole first run, which ends with SIGTERM's deadline.
    const r = await receiver();
    const port = r.port;
    await r.stop();
    const m1 = new Metrics();
    const first = sink(r.address, m1, { storage: 'disk', dir });
    await first.start();
    for (const b of batches()) first.consume(b);
    await eventually(async () => (await counterValue(m1.sinkRetried, { sink: 'otlp' })) >= 2);
    await first.shutdown(Date.now() + 300);
    expect(first.keptOnDisk).toBe(ref.spans.length + ref.logs.length);
    expect(first.undeliveredAtShutdown).toBe(0);
    expect(await m1.droppedCount()).toBe(0);

    // Restarted with the collector back: the disk queue sends what the first run kept.
    await r.start(port);
    const m2 = new Metrics();
    const second = sink(r.address, m2, { storage: 'disk', dir });
    expect(await recovered(m2, 'otlp')).toBe(ref.spans.length);
    expect(await recovered(m2, 'otlp_logs')).toBe(ref.logs.length);
    await second.start();
    await second.flush();
    await second.shutdown();
    expect(await m2.droppedCount()).toBe(0);
    expect(r.spans.map(key).sort()).toEqual(ref.spans.map(key).sort());
    expect(r.logs.length).toBe(ref.logs.length);
  }, 60_000);

  it('replays traces and logs queues an earlier podtrace wrote as whole mapped items (before they were queued encoded)', async () => {
    const ref = await referenceRun();

    // The earlier layout: traces/ and logs/ segment files hold each SpanData / LogRecordData as JSON.
    const mapping = createBatchMapping({
      spans: true,
      logs: true,
      nodeName: 'node-a',
      hostName: 'node-a.example',
      bootId: TEST_BOOT_ID,
      env: {},
      logger: silentLogger(),
    });
    const spans: SpanData[] = [];
    const logs: LogRecordData[] = [];
    for (const b of batches()) {
      const m = mapping.map(b);
      spans.push(...m.spans);
      logs.push(...m.logs);
    }
    const earlierQueue = <T extends { resource: SpanResource }>(signal: string, items: T[]): void => {
      const q = new DiskQueue<T>({
        dir: join(dir, signal),
        dirKey: 'sinks.otlp.queue.dir',
        maxBytes: 1024 * 1024 * 1024,
        codec: otlpItemCodec<T>(),
        stage: signal === 'traces' ? 'otlp' : 'otlp_logs',
        logger: silentLogger(),
        metrics: new Metrics(),
        sizeOf: () => 500,
        eventsOf: () => 1,
        cacheItems: 0,
      });
      expect(q.append(items)).toBe(0);
      q.close();
    };
    earlierQueue('traces', spans);
    earlierQueue('logs', logs);

    const r = await receiver();
    const m = new Metrics();
    const upgraded = sink(r.address, m, { storage: 'disk', dir });
    expect(await recovered(m, 'otlp')).toBe(spans.length);
    expect(await recovered(m, 'otlp_logs')).toBe(logs.length);
    await upgraded.start();
    await upgraded.flush();
    await upgraded.shutdown();
    expect(await m.droppedCount()).toBe(0);
    expect(r.spans.map(key).sort()).toEqual(ref.spans.map(key).sort());
    // Everything but the observed time (when each run mapped the events).
    const logKey = (l: ReceivedLogRecord): string =>
      JSON.stringify({ ...l, observedTimeUnixNano: undefined }, (_k, v: unknown) =>
        typeof v === 'bigint' ? String(v) : v,
      );
    expect(r.logs.length).toBe(ref.logs.length);
    expect(r.logs.map(logKey).sort()).toEqual(ref.logs.map(logKey).sort());
  }, 60_000);
});
