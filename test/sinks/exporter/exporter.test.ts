import { silentLogger } from '../../../src/core/logger';
import { Exporter } from '../../../src/sinks/exporter/exporter';
import type { ExporterOptions } from '../../../src/sinks/exporter/exporter';
import type { ExportTransport, SendFailure, SendResult } from '../../../src/sinks/exporter/send-outcome';
import { Metrics } from '../../../src/telemetry/metrics';

interface Item {
  key: string;
  n: number;
  bytes?: number;
}

/** A transport whose answer per request is scripted by `answer`; records what it delivered. */
class ScriptedTransport implements ExportTransport<Item, Item[]> {
  readonly delivered: Item[] = [];
  readonly requests: Item[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly answer: (items: readonly Item[], key: string) => SendFailure | 'ok' | 'hang',
  ) {}
  encode(items: readonly Item[]): Item[] {
    return [...items];
  }
  byteLength(req: readonly Item[]): number {
    return req.reduce((s, i) => s + (i.bytes ?? 10), 0);
  }
  async send(req: Item[], _items: readonly Item[], key: string): Promise<SendResult<Item>> {
    this.requests.push(req);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await new Promise((r) => setImmediate(r));
    const a = this.answer(req, key);
    if (a === 'hang') return new Promise(() => undefined);
    this.inFlight--;
    if (a !== 'ok') throw Object.assign(new Error(a.message), { failure: a });
    this.delivered.push(...req);
    return {};
  }
  classify(err: unknown): SendFailure {
    return (err as { failure: SendFailure }).failure;
  }
}

function exporter(
  transport: ScriptedTransport,
  metrics: Metrics,
  over: Partial<ExporterOptions<Item, Item[]>> = {},
): Exporter<Item, Item[]> {
  const e = new Exporter<Item, Item[]>({
    stage: 'test',
    logger: silentLogger(),
    metrics,
    transport,
    queue: { maxItems: 10_000, maxBytes: 1 << 30, dropPolicy: 'oldest' },
    batch: { maxItems: 10, maxBytes: 1 << 20, maxDelayMs: 5 },
    concurrency: 2,
    perKeyConcurrency: 1,
    retry: { initialBackoffMs: 5, maxBackoffMs: 20, maxElapsedMs: 200 },
    timeoutMs: 1000,
    sizeOf: (i) => i.bytes ?? 10,
    keyOf: (i) => i.key,
    ...over,
  });
  e.start();
  return e;
}

/** An exporter (not started) whose peer is down, with a 1 s batch delay: what it holds stays queued. */
function queueingExporter(
  metrics: Metrics,
  queue: ExporterOptions<Item, Item[]>['queue'],
): Exporter<Item, Item[]> {
  return new Exporter<Item, Item[]>({
    stage: 'test',
    logger: silentLogger(),
    metrics,
    transport: new ScriptedTransport(() => ({
      kind: 'retry',
      code: 'down',
      message: 'down',
      bounded: false,
    })),
    queue,
    batch: { maxItems: 10, maxBytes: 1000, maxDelayMs: 1000 },
    concurrency: 1,
    perKeyConcurrency: 1,
    retry: { initialBackoffMs: 5, maxBackoffMs: 20, maxElapsedMs: 0 },
    timeoutMs: 1000,
    sizeOf: (i) => i.bytes ?? 10,
  });
}

const items = (key: string, from: number, to: number, bytes?: number): Item[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ key, n: from + i, bytes }));

describe('Exporter', () => {
  describe('keys', () => {
    it('keeps delivering the other keys while one key fails, and drops the failing key after its retry budget with its reason', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport((_items, key) =>
        key === 'refused'
          ? {
              kind: 'retry',
              code: 'topic_authorization_failed',
              message: 'refused',
              dropReason: 'topic_refused:refused',
            }
          : 'ok',
      );
      // One sender: a key waiting for its retry must not hold it.
      const e = exporter(t, metrics, { concurrency: 1 });
      e.offer([...items('refused', 1, 30), ...items('good', 1, 200)]);
      await e.flush();
      expect(t.delivered.filter((i) => i.key === 'good').map((i) => i.n)).toEqual(
        items('good', 1, 200).map((i) => i.n),
      );
      expect(await metrics.droppedCount('test', 'topic_refused:refused')).toBe(30);
      expect(await metrics.droppedCount('test')).toBe(30);
      await e.shutdown(Date.now() + 1000);
    });

    it('keeps each key in order with one batch per key in flight, through retries', async () => {
      const metrics = new Metrics();
      let calls = 0;
      const t = new ScriptedTransport(() =>
        ++calls % 3 === 0 ? { kind: 'retry', code: 'timeout', message: 'timeout' } : 'ok',
      );
      const e = exporter(t, metrics, { concurrency: 3 });
      for (let i = 1; i <= 100; i++) e.offer([{ key: `k${i % 4}`, n: i }]);
      await e.flush();
      for (let k = 0; k < 4; k++) {
        const got = t.delivered.filter((i) => i.key === `k${k}`).map((i) => i.n);
        expect(got).toEqual([...got].sort((a, b) => a - b));
        expect(got).toHaveLength(25);
      }
      expect(t.maxInFlight).toBeLessThanOrEqual(3);
      expect(await metrics.droppedCount('test')).toBe(0);
      await e.shutdown(Date.now() + 1000);
    });
  });

  describe('exported events', () => {
    it('counts the events of what was delivered, not of what a refusing key dropped, in the events each item stands for', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport((_items, key) =>
        key === 'refused' ? { kind: 'permanent', code: 'invalid_argument', message: 'refused' } : 'ok',
      );
      // Item n stands for n % 4 events (0 like a Kafka loss record, up to 3 like an otlp_proto record).
      const e = exporter(t, metrics, { eventsOf: (i) => i.n % 4 });
      e.offer([...items('refused', 1, 20), ...items('good', 1, 50)]);
      await e.flush();
      const goodEvents = items('good', 1, 50).reduce((s, i) => s + (i.n % 4), 0);
      const events = (await metrics.sinkExportedEvents.get()).values.find((v) => v.labels.sink === 'test');
      expect(events?.value).toBe(goodEvents);
      expect((await metrics.sinkExported.get()).values.find((v) => v.labels.sink === 'test')?.value).toBe(50);
      expect(await metrics.droppedCount('test')).toBe(
        items('refused', 1, 20).reduce((s, i) => s + (i.n % 4), 0),
      );
      await e.shutdown(Date.now() + 1000);
    });
  });

  describe('too large', () => {
    it('splits a request the receiver refuses as too large until it fits, in order, and drops a single item that never fits', async () => {
      const metrics = new Metrics();
      const t: ScriptedTransport = new ScriptedTransport((req): SendFailure | 'ok' =>
        t.byteLength(req) > 30
          ? { kind: 'too_large', code: 'message_too_large', message: 'too large' }
          : 'ok',
      );
      const e = exporter(t, metrics, { concurrency: 1 });
      e.offer([...items('a', 1, 9), { key: 'a', n: 10, bytes: 100 }, ...items('a', 11, 20)]);
      await e.flush();
      expect(t.delivered.map((i) => i.n)).toEqual(
        [...items('a', 1, 9), ...items('a', 11, 20)].map((i) => i.n),
      );
      expect(await metrics.droppedCount('test', 'too_large')).toBe(1);
      await e.shutdown(Date.now() + 1000);
    });

    it('splits a batch over batch.maxBytes before sending it', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport(() => 'ok');
      const e = exporter(t, metrics, { batch: { maxItems: 100, maxBytes: 25, maxDelayMs: 1 } });
      e.offer(items('a', 1, 7, 10));
      await e.flush();
      expect(t.requests.every((r) => t.byteLength(r) <= 25 || r.length === 1)).toBe(true);
      expect(t.delivered.map((i) => i.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      await e.shutdown(Date.now() + 1000);
    });
  });

  describe('queue', () => {
    it('bounds the queue in bytes as well as items, dropping the oldest', async () => {
      const metrics = new Metrics();
      const e = queueingExporter(metrics, { maxItems: 1000, maxBytes: 100, dropPolicy: 'oldest' });
      e.offer(items('a', 1, 25));
      expect(e.queued).toBe(10);
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(15);
      expect(await e.shutdown(Date.now())).toBe(10);
    });
  });

  describe('.dropIfFull', () => {
    const full = (
      metrics: Metrics,
      dropPolicy: 'newest' | 'oldest',
      queue = { maxItems: 5, maxBytes: 1 << 20 },
    ): Exporter<Item, Item[]> => queueingExporter(metrics, { ...queue, dropPolicy });

    it('counts what an offer would drop, as queue_full, once a newest-dropping queue is at its item bound', async () => {
      const metrics = new Metrics();
      const e = full(metrics, 'newest');
      expect(e.dropIfFull(3)).toBe(false);
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(0);
      e.offer(items('a', 1, 5));
      expect(e.dropIfFull(3)).toBe(true);
      // The same count an offer of three more items makes.
      e.offer(items('a', 6, 8));
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(6);
      expect(e.queued).toBe(5);
      await e.shutdown(Date.now());
    });

    it('says full at the byte bound too, and never for a queue that drops the oldest (the new items are kept)', async () => {
      const metrics = new Metrics();
      const bytes = full(metrics, 'newest', { maxItems: 1000, maxBytes: 50 });
      bytes.offer(items('a', 1, 5));
      expect(bytes.dropIfFull(1)).toBe(true);
      const oldest = full(metrics, 'oldest');
      oldest.offer(items('a', 1, 5));
      expect(oldest.dropIfFull(2)).toBe(false);
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(1);
      await bytes.shutdown(Date.now());
      await oldest.shutdown(Date.now());
    });
  });

  describe('memory bound', () => {
    it('holds the queue and the batch in flight to queue.maxBytes counting the per-item overhead while the peer is down, drops the oldest as queue_full, and delivers the rest once it is back', async () => {
      const metrics = new Metrics();
      let up = false;
      const t = new ScriptedTransport(() =>
        up ? 'ok' : { kind: 'retry', code: 'down', message: 'down', bounded: false },
      );
      // 10 bytes counted + 40 of overhead = 50 per item: 1000 bytes hold 20 items, queued or in flight.
      const e = exporter(t, metrics, {
        queue: { maxItems: 10_000, maxBytes: 1000, dropPolicy: 'oldest', itemOverheadBytes: 40 },
        batch: { maxItems: 5, maxBytes: 1 << 20, maxDelayMs: 1 },
        concurrency: 1,
        retry: { initialBackoffMs: 2, maxBackoffMs: 10, maxElapsedMs: 60_000 },
      });
      e.offer(items('a', 1, 100));
      // 20 admitted (81..100), then 81..85 went out as a batch: still counted while it waits to be retried.
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(80);
      expect(e.queued).toBe(15);
      expect(e.held()).toBe(1000);
      for (let n = 101; n <= 110; n++) {
        e.offer([{ key: 'a', n }]);
        expect(e.held()).toBeLessThanOrEqual(1000);
      }
      await new Promise((r) => setTimeout(r, 30));
      expect(t.delivered).toHaveLength(0);
      expect(t.requests.length).toBeGreaterThan(1);
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(90);

      up = true;
      await e.flush();
      expect(t.delivered.map((i) => i.n)).toEqual([
        ...items('a', 81, 85).map((i) => i.n),
        ...items('a', 96, 110).map((i) => i.n),
      ]);
      expect(await metrics.droppedCount('test')).toBe(90);
      expect(e.held()).toBe(0);
      expect(await e.shutdown(Date.now() + 1000)).toBe(0);
    });

    it('counts only the encoded size without an overhead (the bound is the same as before for such sinks)', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport(() => 'hang');
      const e = exporter(t, metrics, {
        queue: { maxItems: 10_000, maxBytes: 1000, dropPolicy: 'newest' },
        batch: { maxItems: 1000, maxBytes: 1 << 20, maxDelayMs: 60_000 },
      });
      e.offer(items('a', 1, 120));
      expect(e.queued).toBe(100);
      expect(await metrics.droppedCount('test', 'queue_full')).toBe(20);
      expect(await e.shutdown(Date.now() + 50)).toBe(100);
    });
  });

  describe('.shutdown', () => {
    it('holds its deadline with a receiver that never answers and counts everything it held', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport(() => 'hang');
      const e = exporter(t, metrics);
      e.offer(items('a', 1, 50));
      await new Promise((r) => setTimeout(r, 20));
      const left = await e.shutdown(Date.now() + 200);
      expect(left).toBe(50);
      expect(await metrics.droppedCount('test', 'shutdown_timeout')).toBe(50);
      e.offer(items('a', 51, 53));
      expect(await metrics.droppedCount('test', 'after_shutdown')).toBe(3);
    });

    it('ends retry sleeps at the deadline and counts the batch once', async () => {
      const metrics = new Metrics();
      const t = new ScriptedTransport(() => ({ kind: 'retry', code: 'x', message: 'x', delayMs: 60_000 }));
      const e = exporter(t, metrics, { retry: { initialBackoffMs: 5, maxBackoffMs: 5, maxElapsedMs: 0 } });
      e.offer(items('a', 1, 5));
      await new Promise((r) => setTimeout(r, 30));
      expect(await e.shutdown(Date.now() + 100)).toBe(5);
      expect(await metrics.droppedCount('test')).toBe(5);
    });
  });
});
