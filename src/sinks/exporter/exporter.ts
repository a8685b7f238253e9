import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { DiskRecord } from './disk-queue';
import { DiskQueue } from './disk-queue';
import type { DropReasons } from './drop-reasons';
import { DEFAULT_DROP_REASONS } from './drop-reasons';
import type { ExporterOptions } from './exporter-options';
import { ExportHealth } from './export-health';
import type { KeyState } from './keyed-queue';
import { KeyedQueue } from './keyed-queue';
import { RetryBackoff } from './retry-policy';
import type { SendFailure } from './send-outcome';
import { SlotPool } from './slot-pool';
import { WakeTimer, sleepUnlessAborted } from './wake-timer';

export type { ExporterOptions } from './exporter-options';

/** A formed batch until it is settled: delivered, dropped or counted at the shutdown deadline. */
interface Batch<T> {
  items: T[];
  /** Disk queue record ids of the items (empty in memory). */
  ids: number[];
  /** What the byte bound counts for the items (sizes plus the per-item overhead). */
  bytes: number;
  settled: boolean;
}

/**
 * The delivery core every sink uses (after the Collector's exporterhelper): bounded queue (items
 * and bytes) → per-key batcher (items, bytes, delay) → up to `concurrency` senders → one retry
 * policy → classified outcomes (retry, permanent, too large → split) → drops counted by stage and
 * reason. The sink supplies a transport (encode / send / classify) and its own config.
 */
export class Exporter<T, R> {
  private readonly q = new KeyedQueue<T>();
  private readonly reasons: DropReasons;
  private readonly slots: SlotPool;
  private readonly open = new Set<Batch<T>>();
  private readonly eventsOf: (item: T) => number;
  private readonly stop = new AbortController();
  private readonly log: Logger;
  private stamp = 0;
  private rotate = 0;
  private started = false;
  private closing = false;
  private deadlineAt = Infinity;
  private readonly timer = new WakeTimer(() => this.schedule());
  private flushWaiters: (() => void)[] = [];
  private readonly health: ExportHealth;
  /** Events counted as `shutdownTimeout` (by batches whose retry wait the deadline ended, and at the end). */
  private undelivered = 0;
  private readonly disk: DiskQueue<T> | null = null;
  private readonly window: { items: number; bytes: number };
  private readonly overhead: number;
  /** The byte bound's count of the batches in flight (or waiting for a retry). */
  private openBytes = 0;
  /** Events the disk queue holds for the next start after shutdown. */
  keptOnDisk = 0;

  constructor(private readonly opts: ExporterOptions<T, R>) {
    this.reasons = { ...DEFAULT_DROP_REASONS, ...opts.reasons };
    this.slots = new SlotPool(opts.concurrency);
    this.eventsOf = opts.eventsOf ?? (() => 1);
    this.log = opts.logger;
    this.health = new ExportHealth(opts.logger);
    this.overhead = opts.queue.itemOverheadBytes ?? 0;
    const rounds = 2 * opts.concurrency;
    this.window = {
      items: Math.min(opts.queue.maxItems, rounds * opts.batch.maxItems),
      // With a disk queue the read-ahead takes at most a quarter of its bound, so dropping over
      // the bound always finds unread (older than the newest) segments to drop.
      bytes: Math.min(
        opts.queue.maxBytes,
        rounds * opts.batch.maxBytes,
        (opts.durable?.maxBytes ?? Infinity) / 4,
      ),
    };
    if (opts.durable !== undefined)
      this.disk = new DiskQueue<T>({
        ...opts.durable,
        stage: opts.stage,
        logger: opts.logger,
        metrics: opts.metrics,
        sizeOf: opts.sizeOf,
        eventsOf: this.eventsOf,
        cacheItems: this.window.items,
      });
  }

  /** Items and events waiting or in flight. */
  get pendingItems(): number {
    let n = this.q.items + (this.disk?.unreadItems ?? 0);
    for (const b of this.open) n += b.items.length;
    return n;
  }

  get pendingEvents(): number {
    let n = this.disk?.unreadEvents ?? 0;
    this.q.forEach((item) => (n += this.eventsOf(item)));
    for (const b of this.open) for (const item of b.items) n += this.eventsOf(item);
    return n;
  }

  get queued(): number {
    return this.q.items + (this.disk?.unreadItems ?? 0);
  }

  /** When the endpoint became unreachable (ms since the epoch), or null while it answers. */
  get unreachableSince(): number | null {
    return this.health.unreachableSince;
  }

  /** When some key started failing, with the last error, or null when every key delivers. */
  failing(): { since: number; error: string } | null {
    return this.health.failing();
  }

  start(): void {
    this.started = true;
    this.schedule();
  }

  private eventsIn(items: readonly T[]): number {
    let n = 0;
    for (const item of items) n += this.eventsOf(item);
    return n;
  }

  /** Queues items (dropping by policy when full). */
  offer(items: readonly T[]): void {
    if (this.closing) {
      this.opts.metrics.drop(this.opts.stage, this.reasons.afterShutdown, this.eventsIn(items));
      return;
    }
    if (this.disk !== null) {
      this.opts.metrics.drop(this.opts.stage, this.reasons.diskFull, this.disk.append(items));
      return this.schedule();
    }
    const { maxItems, maxBytes, dropPolicy } = this.opts.queue;
    const keyOf = this.opts.keyOf;
    const now = performance.now();
    const ov = this.overhead;
    let dropped = 0;
    for (const item of items) {
      const size = this.opts.sizeOf(item);
      if (dropPolicy === 'newest' && (this.q.items >= maxItems || this.held() + size + ov > maxBytes)) {
        dropped += this.eventsOf(item);
        continue;
      }
      this.q.push(keyOf === undefined ? '' : keyOf(item), item, size, ++this.stamp, now);
      while (this.q.items > maxItems || (this.held() > maxBytes && this.q.items > 1)) {
        const gone = this.q.dropOldest();
        if (gone !== undefined) dropped += this.eventsOf(gone);
      }
    }
    if (dropped > 0) this.opts.metrics.drop(this.opts.stage, this.reasons.queueFull, dropped);
    this.schedule();
  }

  /**
   * Whether an offer now would drop every item (drop policy `newest`, the memory queue at its item
   * or byte bound); if so counts `events` as `queue_full`, as the offer would have. Lets a sink skip
   * encoding items in a storm only for the queue to refuse them.
   */
  dropIfFull(events: number): boolean {
    const { maxItems, maxBytes, dropPolicy } = this.opts.queue;
    if (this.closing || this.disk !== null || dropPolicy !== 'newest') return false;
    if (this.q.items < maxItems && this.held() + this.overhead < maxBytes) return false;
    if (events > 0) this.opts.metrics.drop(this.opts.stage, this.reasons.queueFull, events);
    return true;
  }

  /** Resolves once everything offered so far was delivered or dropped (sends partial batches now). */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push(resolve);
      this.schedule();
    });
  }

  /**
   * Stops intake and sends everything until `deadlineAt` (ms since the epoch). What is still
   * queued or in flight then is counted as `shutdownTimeout` and returned (in events).
   */
  async shutdown(deadlineAt: number): Promise<number> {
    this.closing = true;
    this.deadlineAt = deadlineAt;
    this.timer.clear();
    if (this.started) {
      const deadline = setTimeout(() => this.stop.abort(), Math.max(0, deadlineAt - Date.now()));
      try {
        while (!this.idle() && !this.stop.signal.aborted)
          await new Promise<void>((resolve) => {
            this.flushWaiters.push(resolve);
            this.stop.signal.addEventListener('abort', () => resolve(), { once: true });
            this.schedule();
          });
      } finally {
        clearTimeout(deadline);
      }
    }
    this.stop.abort();
    let left = 0;
    for (const b of this.open) {
      b.settled = true;
      for (const item of b.items) left += this.eventsOf(item);
    }
    this.open.clear();
    this.openBytes = 0;
    this.q.drain((item) => (left += this.eventsOf(item)));
    if (this.disk !== null) {
      // Nothing is lost: what is unacknowledged stays in the files and is sent after the next start.
      this.keptOnDisk = this.disk.pendingEvents;
      this.disk.close();
      left = 0;
    }
    this.opts.metrics.drop(this.opts.stage, this.reasons.shutdownTimeout, left);
    this.undelivered += left;
    this.depth();
    this.wakeFlush();
    return this.undelivered;
  }

  /** What the byte bound counts now: the queue and the batches in flight, with the per-item overhead. */
  held(): number {
    return this.q.bytes + this.q.items * this.overhead + this.openBytes;
  }

  private idle(): boolean {
    return this.q.items === 0 && this.open.size === 0 && (this.disk?.unreadItems ?? 0) === 0;
  }

  /** Reads the disk queue into the in-memory window, oldest first. */
  private pump(disk: DiskQueue<T>): void {
    const keyOf = this.opts.keyOf;
    const now = performance.now();
    while (this.q.items < this.window.items && this.q.bytes < this.window.bytes && disk.unreadItems > 0) {
      const got: DiskRecord<T>[] = disk.read(
        this.window.items - this.q.items,
        this.window.bytes - this.q.bytes,
      );
      if (got.length === 0) break;
      for (const r of got) {
        this.q.push(keyOf === undefined ? '' : keyOf(r.item), r.item, r.size, r.id, now);
      }
    }
  }

  /** Forms and starts batches wherever a key is ready and a sender is free; arms the delay timer. */
  private schedule(): void {
    if (!this.started || this.stop.signal.aborted) return;
    if (this.disk !== null) this.pump(this.disk);
    const { maxItems, maxBytes, maxDelayMs } = this.opts.batch;
    const now = performance.now();
    const force = this.closing || this.flushWaiters.length > 0;
    let wakeAt = Infinity;
    const n = this.q.order.length;
    for (let i = 0; i < n && this.slots.free > 0; i++) {
      const ks = this.q.order[(this.rotate + i) % n]!;
      while (ks.fifo.length > 0 && ks.inFlight < this.opts.perKeyConcurrency && this.slots.free > 0) {
        const due = ks.fifo.oldestAt + maxDelayMs;
        if (!force && ks.fifo.length < maxItems && ks.fifo.bytes < maxBytes && now < due) {
          wakeAt = Math.min(wakeAt, due);
          break;
        }
        const taken = this.q.take(ks, maxItems, maxBytes, now);
        const bytes = taken.bytes + taken.items.length * this.overhead;
        this.launch(ks, taken.items, this.disk === null ? [] : taken.stamps, bytes);
      }
    }
    this.rotate = n === 0 ? 0 : (this.rotate + 1) % n;
    this.depth();
    if (this.idle()) this.wakeFlush();
    if (wakeAt !== Infinity && !force) this.timer.arm(wakeAt);
  }

  private depth(): void {
    this.opts.metrics.queueDepth.set({ queue: this.opts.stage }, this.queued);
  }

  private wakeFlush(): void {
    if (!this.idle() && !this.stop.signal.aborted) return;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  private launch(ks: KeyState<T>, items: T[], ids: number[], bytes: number): void {
    ks.inFlight++;
    this.slots.take();
    const batch: Batch<T> = { items, ids, bytes, settled: false };
    this.openBatch(batch);
    void this.deliver(ks, batch, true)
      .catch((err: unknown) => {
        // deliver() settles every outcome itself; reaching here is a bug, not an outage.
        this.log.error({ err: errorMessage(err), key: ks.key }, 'export failed unexpectedly');
        this.settle(batch, this.reasons.permanent);
      })
      .finally(() => {
        ks.inFlight--;
        this.schedule();
      });
  }

  /** Settles a batch once: counts its events as dropped for `reason` (null: delivered). */
  private settle(batch: Batch<T>, reason: string | null): number {
    if (batch.settled) return 0;
    this.closeBatch(batch);
    let n = 0;
    if (this.disk !== null) {
      // Cut off by the deadline: kept in the files for the next start, not dropped.
      if (reason === this.reasons.shutdownTimeout) return 0;
      this.disk.ack(batch.ids);
    }
    if (reason !== null) {
      for (const item of batch.items) n += this.eventsOf(item);
      this.opts.metrics.drop(this.opts.stage, reason, n);
      if (reason === this.reasons.shutdownTimeout) this.undelivered += n;
    }
    if (this.idle()) this.wakeFlush();
    return n;
  }

  /**
   * Sends one batch until it is delivered or given up, holding a sender slot only while a send is
   * in flight. A too-large batch is split in two and each half delivered in turn (order kept).
   */
  private async deliver(ks: KeyState<T>, batch: Batch<T>, holdsSlot: boolean): Promise<void> {
    const { transport, metrics, stage } = this.opts;
    const retry = new RetryBackoff(this.opts.retry);
    let slot = holdsSlot;
    try {
      for (;;) {
        if (batch.settled) return;
        if (!slot) {
          slot = await this.slots.acquire(this.stop.signal);
          if (!slot) return void this.settle(batch, this.reasons.shutdownTimeout);
          if (batch.settled) return;
        }
        const request = transport.encode(batch.items, ks.key);
        if (request === null) return void this.settle(batch, null);
        if (batch.items.length > 1 && transport.byteLength(request) > this.opts.batch.maxBytes) {
          this.slots.release();
          slot = false;
          return await this.split(ks, batch);
        }
        const t0 = performance.now();
        let failure: SendFailure;
        try {
          const timeoutMs = Math.max(1, Math.min(this.opts.timeoutMs, this.deadlineAt - Date.now()));
          const result = await transport.send(request, batch.items, ks.key, timeoutMs);
          metrics.sinkExportLatency.observe({ sink: stage }, (performance.now() - t0) / 1000);
          if (batch.settled) return;
          const rejected = Math.min(result.rejected ?? 0, batch.items.length);
          const unacked = result.unacknowledged ?? [];
          metrics.drop(stage, this.reasons.rejectedByServer, rejected);
          metrics.sinkExported.inc({ sink: stage }, batch.items.length - rejected - unacked.length);
          // Partial success names how many items were rejected, not which: each counts as one event.
          const events = this.eventsIn(batch.items) - this.eventsIn(unacked) - rejected;
          if (events > 0) metrics.sinkExportedEvents.inc({ sink: stage }, events);
          if (unacked.length === 0) {
            this.health.delivered(ks.key, this.q.items);
            return void this.settle(batch, null);
          }
          batch.items = unacked;
          failure = {
            kind: 'retry',
            code: 'unacknowledged',
            message: `no acknowledgement for ${unacked.length} items; sending them again`,
            bounded: false,
          };
        } catch (err) {
          metrics.sinkExportLatency.observe({ sink: stage }, (performance.now() - t0) / 1000);
          if (batch.settled) return;
          failure = transport.classify(err, ks.key);
        }
        metrics.sinkFailed.inc({ sink: stage, reason: failure.code });
        this.health.failed(ks.key, failure, this.q.items);
        if (failure.kind === 'too_large') {
          if (batch.items.length > 1) {
            this.slots.release();
            slot = false;
            return await this.split(ks, batch);
          }
          return this.giveUp(ks.key, batch, failure.dropReason ?? this.reasons.tooLarge, failure);
        }
        if (failure.kind === 'permanent')
          return this.giveUp(ks.key, batch, failure.dropReason ?? this.reasons.permanent, failure);
        const delay = retry.next(failure.delayMs, failure.bounded !== false);
        if (delay === null)
          return this.giveUp(ks.key, batch, failure.dropReason ?? this.reasons.retriesExhausted, failure);
        metrics.sinkRetried.inc({ sink: stage });
        this.slots.release();
        slot = false;
        if (!(await sleepUnlessAborted(delay, this.stop.signal, this.closing)))
          return void this.settle(batch, this.reasons.shutdownTimeout);
      }
    } finally {
      if (slot) this.slots.release();
    }
  }

  /** Replaces the batch by its two halves, delivered one after the other. */
  private async split(ks: KeyState<T>, batch: Batch<T>): Promise<void> {
    const half = Math.ceil(batch.items.length / 2);
    const part = (items: T[], ids: number[]): Batch<T> => {
      let bytes = items.length * this.overhead;
      for (const item of items) bytes += this.opts.sizeOf(item);
      return { items, ids, bytes, settled: false };
    };
    const first = part(batch.items.slice(0, half), batch.ids.slice(0, half));
    const second = part(batch.items.slice(half), batch.ids.slice(half));
    this.closeBatch(batch);
    this.openBatch(first);
    this.openBatch(second);
    await this.deliver(ks, first, false);
    await this.deliver(ks, second, false);
  }

  private openBatch(batch: Batch<T>): void {
    this.open.add(batch);
    this.openBytes += batch.bytes;
  }

  private closeBatch(batch: Batch<T>): void {
    batch.settled = true;
    if (this.open.delete(batch)) this.openBytes -= batch.bytes;
  }

  private giveUp(key: string, batch: Batch<T>, reason: string, failure: SendFailure): void {
    this.health.gaveUp(key, this.settle(batch, reason), reason, failure);
  }
}
