import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/logger';
import type { ItemCodec } from '../../../src/sinks/exporter/disk-queue';
import { DiskQueue } from '../../../src/sinks/exporter/disk-queue';
import { Exporter } from '../../../src/sinks/exporter/exporter';
import type { ExportTransport, SendFailure, SendResult } from '../../../src/sinks/exporter/send-outcome';
import { Metrics } from '../../../src/telemetry/metrics';

interface Item {
  key: string;
  n: number;
  pad: string;
}

const codec: ItemCodec<Item> = {
  encode: (i) => Buffer.from(JSON.stringify(i)),
  decode: (b) => JSON.parse(b.toString()) as Item,
};

const DOWN: SendFailure = { kind: 'retry', code: 'UNAVAILABLE', message: 'down', bounded: false };

/** Fails every send while `down`, delivers otherwise. */
class SwitchTransport implements ExportTransport<Item, Item[]> {
  readonly delivered: Item[] = [];
  down = true;
  encode(items: readonly Item[]): Item[] {
    return [...items];
  }
  byteLength(req: readonly Item[]): number {
    return req.length * 100;
  }
  async send(req: Item[]): Promise<SendResult<Item>> {
    await new Promise((r) => setImmediate(r));
    if (this.down) throw new Error('down');
    this.delivered.push(...req);
    return {};
  }
  classify(): SendFailure {
    return DOWN;
  }
}

function diskExporter(
  dir: string,
  t: SwitchTransport,
  metrics: Metrics,
  maxBytes = 64 << 20,
): Exporter<Item, Item[]> {
  const e = new Exporter<Item, Item[]>({
    stage: 'test',
    logger: silentLogger(),
    metrics,
    transport: t,
    queue: { maxItems: 10_000, maxBytes: 1 << 30, dropPolicy: 'oldest' },
    batch: { maxItems: 50, maxBytes: 1 << 20, maxDelayMs: 5 },
    concurrency: 2,
    perKeyConcurrency: 1,
    retry: { initialBackoffMs: 5, maxBackoffMs: 20, maxElapsedMs: 0 },
    timeoutMs: 1000,
    sizeOf: () => 100,
    keyOf: (i) => i.key,
    durable: { dir, dirKey: 'sinks.test.queue.dir', maxBytes, codec },
  });
  e.start();
  return e;
}

const items = (from: number, to: number, pad = 0): Item[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    key: (from + i) % 3 === 0 ? 'a' : 'b',
    n: from + i,
    pad: 'p'.repeat(pad),
  }));

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (m === undefined) return 0;
  const data = await m.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((s, v) => s + v.value, 0);
}

const sorted = (xs: Item[]): number[] => xs.map((i) => i.n).sort((a, b) => a - b);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const segments = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();

describe('Exporter with a disk queue', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'podtrace-dq-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what an outage and a shutdown left, and the next start sends it first, before new items', async () => {
    const m1 = new Metrics();
    const t1 = new SwitchTransport();
    const first = diskExporter(dir, t1, m1);
    first.offer(items(1, 5000));
    await until(() => first.pendingEvents === 5000);
    expect(await first.shutdown(Date.now() + 200)).toBe(0);
    expect(first.keptOnDisk).toBe(5000);
    expect(await counter(m1, 'podtrace_dropped_total')).toBe(0);

    const m2 = new Metrics();
    const t2 = new SwitchTransport();
    t2.down = false;
    const second = diskExporter(dir, t2, m2);
    expect(await counter(m2, 'podtrace_queue_recovered_items_total', { queue: 'test' })).toBe(5000);
    second.offer(items(5001, 6000));
    await second.flush();
    expect(sorted(t2.delivered)).toEqual(range(1, 6000));
    // Per key, replayed items come first and in order.
    for (const key of ['a', 'b']) {
      const ns = t2.delivered.filter((i) => i.key === key).map((i) => i.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    await second.shutdown(Date.now() + 1000);
    expect(second.keptOnDisk).toBe(0);
    // Everything acknowledged: a third start finds nothing to send.
    const m3 = new Metrics();
    const third = diskExporter(dir, new SwitchTransport(), m3);
    expect(third.pendingEvents).toBe(0);
    await third.shutdown(Date.now());
  });

  it('delivers the backlog of a long outage in full, in more segments than one, and deletes the segments it delivered', async () => {
    const metrics = new Metrics();
    const t = new SwitchTransport();
    const e = diskExporter(dir, t, metrics, 8 << 20);
    for (let i = 0; i < 40; i++) e.offer(items(i * 1000 + 1, (i + 1) * 1000, 100));
    expect(e.pendingEvents).toBe(40_000);
    expect(segments(dir).length).toBeGreaterThan(4);
    t.down = false;
    await e.flush();
    expect(sorted(t.delivered)).toEqual(range(1, 40_000));
    expect(await counter(metrics, 'podtrace_dropped_total')).toBe(0);
    expect(segments(dir).length).toBeLessThanOrEqual(1);
    await e.shutdown(Date.now() + 1000);
  });

  it('drops the oldest past maxBytes and counts exactly what it dropped', async () => {
    const metrics = new Metrics();
    const t = new SwitchTransport();
    const e = diskExporter(dir, t, metrics, 1 << 20);
    const produced = 20_000;
    for (let i = 0; i < produced / 500; i++) e.offer(items(i * 500 + 1, (i + 1) * 500, 200));
    const dropped = await counter(metrics, 'podtrace_dropped_total', { reason: 'disk_queue_full' });
    expect(dropped).toBeGreaterThan(0);
    t.down = false;
    await e.flush();
    expect(t.delivered.length + dropped).toBe(produced);
    // Oldest first: what was dropped is one run of the oldest unread items (the first batches were
    // already in flight), so the delivered numbers have exactly one gap and end with the newest.
    const got = sorted(t.delivered);
    expect(got.at(-1)).toBe(produced);
    expect(got.filter((n, i) => i > 0 && n !== got[i - 1]! + 1)).toHaveLength(1);
    expect(new Set(t.delivered.map((i) => i.n)).size).toBe(t.delivered.length);
    await e.shutdown(Date.now() + 1000);
  });

  it('skips a segment cut short mid-record, counts it, and delivers the records before the cut and in other segments', async () => {
    const m1 = new Metrics();
    const first = diskExporter(dir, new SwitchTransport(), m1, 2 << 20);
    for (let i = 0; i < 20; i++) first.offer(items(i * 500 + 1, (i + 1) * 500, 100));
    await first.shutdown(Date.now() + 100);
    const segs = segments(dir);
    expect(segs.length).toBeGreaterThan(2);
    const victim = join(dir, segs[1]!);
    truncateSync(victim, statSync(victim).size - 37);

    const m2 = new Metrics();
    const t2 = new SwitchTransport();
    t2.down = false;
    const second = diskExporter(dir, t2, m2, 2 << 20);
    await second.flush();
    expect(await counter(m2, 'podtrace_queue_corrupt_total', { defect: 'truncated' })).toBe(1);
    const got = new Set(t2.delivered.map((i) => i.n));
    expect(got.size).toBe(t2.delivered.length);
    // Exactly the one record cut in half is missing; everything after it (later segments) came.
    expect(10_000 - got.size).toBe(1);
    expect(got.has(10_000)).toBe(true);
    await second.shutdown(Date.now() + 1000);
  });

  it('skips the rest of a segment whose bytes were damaged, counting it, and never throws', async () => {
    const first = diskExporter(dir, new SwitchTransport(), new Metrics(), 2 << 20);
    for (let i = 0; i < 20; i++) first.offer(items(i * 500 + 1, (i + 1) * 500, 100));
    await first.shutdown(Date.now() + 100);
    const segs = segments(dir);
    writeFileSync(join(dir, segs[0]!), Buffer.from('garbage, not a segment'));
    const metrics = new Metrics();
    const t = new SwitchTransport();
    t.down = false;
    const second = diskExporter(dir, t, metrics, 2 << 20);
    await second.flush();
    expect(await counter(metrics, 'podtrace_queue_corrupt_total', { defect: 'header' })).toBe(1);
    expect(t.delivered.length).toBeGreaterThan(0);
    expect(sorted(t.delivered).at(-1)).toBe(10_000);
    await second.shutdown(Date.now() + 1000);
  });

  it('after dropping every segment over the bound, a crash still finds the records appended since', () => {
    const metrics = new Metrics();
    const q = new DiskQueue<Item>({
      dir,
      dirKey: 'k',
      maxBytes: 1 << 20,
      codec,
      stage: 'test',
      logger: silentLogger(),
      metrics,
      sizeOf: () => 100,
      eventsOf: () => 1,
      cacheItems: 100,
    });
    // One append larger than the whole bound: everything in it is dropped, its segment deleted.
    expect(q.append(items(1, 3000, 400))).toBe(3000);
    expect(segments(dir)).toEqual([]);
    q.append(items(3001, 3010));
    // A crash now (no close): what is on disk must hold the ten records.
    const copy = mkdtempSync(join(tmpdir(), 'podtrace-dq-crash-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const reopened = new DiskQueue<Item>({
        dir: copy,
        dirKey: 'k',
        maxBytes: 1 << 20,
        codec,
        stage: 'test',
        logger: silentLogger(),
        metrics: new Metrics(),
        sizeOf: () => 100,
        eventsOf: () => 1,
        cacheItems: 100,
      });
      expect(reopened.read(100, 1 << 20).map((r) => r.item.n)).toEqual(range(3001, 3010));
      reopened.close();
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    q.close();
  });

  it('leaves no segment behind once everything was delivered', async () => {
    const t = new SwitchTransport();
    t.down = false;
    const e = diskExporter(dir, t, new Metrics());
    e.offer(items(1, 500));
    await e.flush();
    await e.shutdown(Date.now() + 1000);
    expect(segments(dir)).toEqual([]);
  });

  it('refuses a directory it cannot write with an error naming the key and the path', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const queueDir = join(file, 'queue');
    expect(() => diskExporter(queueDir, new SwitchTransport(), new Metrics())).toThrow(ConfigError);
    expect(() => diskExporter(queueDir, new SwitchTransport(), new Metrics())).toThrow(
      new RegExp(`^sinks\\.test\\.queue\\.dir: ${queueDir} is not a writable directory`),
    );
  });

  it('refuses a second queue on a directory this agent already uses', async () => {
    const e = diskExporter(dir, new SwitchTransport(), new Metrics());
    expect(() => diskExporter(dir, new SwitchTransport(), new Metrics())).toThrow(/already used/);
    await e.shutdown(Date.now());
  });
});
