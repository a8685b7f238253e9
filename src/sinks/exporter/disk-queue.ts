import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { Metrics } from '../../telemetry/metrics';
import { AckWindow } from './ack-window';
import { AppendCache } from './append-cache';
import { openQueueDir, recoverSegments, reportCorrupt } from './disk-queue-recovery';
import type { QueueCheckpoint, QueuePosition } from './queue-checkpoint';
import { SEGMENT_HEADER_BYTES, encodeFrames, parseFrames } from './segment-file';
import type { Segment } from './segment-scan';
import { SegmentWriter } from './segment-writer';

/** How a sink's item is written to and read back from the disk queue. */
export interface ItemCodec<T> {
  encode(item: T): Uint8Array;
  decode(bytes: Buffer): T;
}

export interface DiskQueueOptions<T> {
  dir: string;
  /** The YAML key of `dir`, named in errors. */
  dirKey: string;
  /** Bound of the records not yet acknowledged (frames included); past it the oldest are dropped. */
  maxBytes: number;
  codec: ItemCodec<T>;
  /** The `queue` label of the queue's metrics. */
  stage: string;
  logger: Logger;
  metrics: Metrics;
  sizeOf: (item: T) => number;
  eventsOf: (item: T) => number;
  /** Appended items kept decoded, so a queue that keeps up never reads its own writes back. */
  cacheItems: number;
}

/** One record read into memory: acknowledge it by `id` once it is delivered or dropped. */
export interface DiskRecord<T> {
  id: number;
  item: T;
  size: number;
}

/** Drop reasons of `podtrace_dropped_total` the disk queue counts itself (docs/operations.md#delivery). */
export const DISK_WRITE_FAILED = 'disk_queue_write_failed';
export const DISK_CORRUPT = 'disk_queue_corrupt';

const READ_CHUNK_BYTES = 1024 * 1024;
/** Segments are a 16th of the bound (64 KiB .. 32 MiB): dropping over the bound is that fine-grained. */
const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 32 * 1024 * 1024;

/** Directories held by a queue of this process: two sinks never share one. */
const openDirs = new Set<string>();

/**
 * The durable queue under the exporter core (`queue.storage: disk`): append-only segment files of
 * length + CRC-32 framed records (segment-file.ts), a committed position written after each
 * acknowledgement (queue-checkpoint.ts), segments deleted once every record in them is
 * acknowledged. Records are read back in order into the core's in-memory window; records left by
 * a previous run come first. Past `maxBytes` of unacknowledged records the oldest unread segment
 * is dropped whole and its events returned for counting; a segment cut short or corrupted is read
 * up to the defect and the rest skipped and counted. Synchronous file I/O in large appends: one
 * write per offered batch, one read per MiB.
 */
export class DiskQueue<T> {
  private readonly dir: string;
  private readonly checkpoint: QueueCheckpoint;
  private readonly log: Logger;
  private segments: Segment[] = [];
  private readonly writer: SegmentWriter;
  private readSeg: Segment | null = null;
  private readFd: number | null = null;
  private readOff = 0;
  private readRecords = 0;
  private readEvents = 0;
  private readonly window = new AckWindow<Segment>();
  private readonly cache: AppendCache<T, Segment>;
  private closed = false;
  /** The highest segment index used (new segments get the next). */
  private lastIndex = 0;
  /** Bytes of records not yet acknowledged (what `maxBytes` bounds). */
  liveBytes = 0;
  unreadItems = 0;
  unreadEvents = 0;
  /** Bytes of the segment files. */
  fileBytes = 0;

  constructor(private readonly opts: DiskQueueOptions<T>) {
    this.dir = resolve(opts.dir);
    this.log = opts.logger;
    const segmentBytes = Math.min(
      MAX_SEGMENT_BYTES,
      Math.max(MIN_SEGMENT_BYTES, Math.floor(opts.maxBytes / 16)),
    );
    this.cache = new AppendCache<T, Segment>(opts.cacheItems);
    this.writer = new SegmentWriter(this.dir, segmentBytes, this.log);
    if (openDirs.has(this.dir))
      throw new ConfigError(`${opts.dirKey}: ${this.dir} is already used by another queue of this agent`);
    this.checkpoint = openQueueDir(this.dir, opts.dirKey);
    openDirs.add(this.dir);
    this.recover();
  }

  /** Events still to deliver from the queue: read into memory and unacknowledged, or unread. */
  get pendingEvents(): number {
    return this.window.pendingEvents + this.unreadEvents;
  }

  /** Appends `items` (one write); returns the events dropped to stay within `maxBytes`. */
  append(items: readonly T[]): number {
    if (items.length === 0 || this.closed) return 0;
    const { codec, eventsOf, sizeOf } = this.opts;
    const seg = this.ensureWriter();
    const payloads: Buffer[] = [];
    const events: number[] = [];
    for (const item of items) {
      const body = codec.encode(item);
      const p = Buffer.allocUnsafe(4 + body.byteLength);
      const n = eventsOf(item);
      p.writeUInt32LE(n, 0);
      p.set(body, 4);
      payloads.push(p);
      events.push(n);
    }
    const buf = encodeFrames(payloads);
    try {
      this.writer.write(buf);
    } catch (err) {
      // ENOSPC, EIO: these items are lost (counted); the next append starts a new segment.
      this.log.warn({ err: errorMessage(err), file: seg.path }, 'disk queue: append failed; items dropped');
      this.writer.roll();
      let lost = 0;
      for (const n of events) lost += n;
      this.opts.metrics.drop(this.opts.stage, DISK_WRITE_FAILED, lost);
      return 0;
    }
    let at = seg.bytes;
    for (let i = 0; i < items.length; i++) {
      const end = at + 8 + payloads[i]!.byteLength;
      const n = events[i]!;
      this.cache.push({ item: items[i]!, size: sizeOf(items[i]!), events: n, seg, start: at, end });
      seg.records++;
      seg.events += n;
      this.unreadEvents += n;
      at = end;
    }
    this.unreadItems += items.length;
    seg.bytes = seg.valid = at;
    this.liveBytes += buf.length;
    this.fileBytes += buf.length;
    const dropped = this.enforceBound();
    this.gauge();
    return dropped;
  }

  /** Reads up to `maxItems` records (at least one if any, then up to `maxBytes`) into memory, oldest first. */
  read(maxItems: number, maxBytes: number): DiskRecord<T>[] {
    const out: DiskRecord<T>[] = [];
    let bytes = 0;
    while (out.length < maxItems && bytes < maxBytes && this.unreadItems > 0) {
      const seg = this.readSeg;
      if (seg === null || this.readOff >= seg.valid) {
        if (!this.advance()) break;
        continue;
      }
      const c = this.cache.first;
      if (c !== undefined && c.seg === seg && c.start === this.readOff) {
        this.cache.shift();
        out.push(this.admit(seg, c.item, c.size, c.events, c.start, c.end));
        bytes += c.size;
        continue;
      }
      // Read from the file up to the first cached record (or the readable end).
      const limit = c !== undefined && c.seg === seg ? c.start : seg.valid;
      bytes += this.readFromFile(seg, limit, maxItems - out.length, out);
    }
    return out;
  }

  /** Marks records delivered or dropped; the committed position moves past the oldest run of them. */
  ack(ids: readonly number[]): void {
    if (this.closed) return;
    const freed = this.window.ack(ids);
    this.liveBytes -= freed;
    if (freed > 0) this.commit();
  }

  /** Writes the committed position and closes the files; what is unacknowledged stays for the next start. */
  close(): void {
    if (this.closed) return;
    // Everything delivered: the segment being written goes too, nothing is left on the node.
    if (this.window.empty && this.unreadItems === 0) this.writer.roll();
    this.commit();
    this.closed = true;
    this.writer.roll();
    this.closeReadFd();
    this.checkpoint.close();
    openDirs.delete(this.dir);
  }

  /** Queues again what a previous run left from the committed position on (disk-queue-recovery.ts). */
  private recover(): void {
    const { stage, metrics } = this.opts;
    const left = recoverSegments(this.dir, this.checkpoint, { stage, metrics, logger: this.log });
    this.segments = left.segments;
    this.lastIndex = left.lastIndex;
    this.fileBytes += left.fileBytes;
    this.liveBytes += left.liveBytes;
    this.unreadItems += left.records;
    this.unreadEvents += left.events;
    const first = this.segments[0];
    if (first !== undefined) {
      this.readSeg = first;
      this.readOff = left.firstOffset;
    }
    this.commit();
    this.gauge();
  }

  private readFromFile(seg: Segment, limit: number, maxItems: number, out: DiskRecord<T>[]): number {
    this.readFd ??= openSync(seg.path, 'r');
    let want = Math.min(limit - this.readOff, READ_CHUNK_BYTES);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const got = readSync(this.readFd, buf, 0, want, this.readOff);
      const scan = parseFrames(buf.subarray(0, got), 0, maxItems);
      if (
        scan.frames.length === 0 &&
        scan.defect === 'truncated' &&
        this.readOff + scan.need <= limit &&
        scan.need > want
      ) {
        want = scan.need;
        continue;
      }
      if (scan.frames.length === 0 && scan.defect !== null) {
        // Damaged after it was scanned or written: skip the rest of the segment, count its events as dropped.
        reportCorrupt(seg, scan.defect, this.readOff, { ...this.opts, logger: this.log });
        return this.skipRest(seg, DISK_CORRUPT);
      }
      let bytes = 0;
      const base = this.readOff;
      for (const f of scan.frames) {
        const events = f.payload.readUInt32LE(0);
        let item: T;
        try {
          item = this.opts.codec.decode(f.payload.subarray(4));
        } catch (err) {
          this.undecodable(seg, base + f.start, f.end - f.start, events, err);
          continue;
        }
        const size = this.opts.sizeOf(item);
        out.push(this.admit(seg, item, size, events, base + f.start, base + f.end));
        bytes += size;
      }
      return bytes;
    }
  }

  /** A record whose CRC holds but the sink cannot read back (another version's format): dropped, counted. */
  private undecodable(seg: Segment, at: number, bytes: number, events: number, err: unknown): void {
    this.opts.metrics.queueCorrupt.inc({ queue: this.opts.stage, defect: 'decode' });
    this.opts.metrics.drop(this.opts.stage, DISK_CORRUPT, events);
    this.log.warn(
      { file: seg.path, offset: at, err: errorMessage(err) },
      'disk queue: unreadable record skipped',
    );
    this.readOff = at + bytes;
    this.readRecords++;
    this.readEvents += events;
    this.unreadItems--;
    this.unreadEvents -= events;
    this.liveBytes -= bytes;
  }

  /** Moves the record at the read position into the window. */
  private admit(
    seg: Segment,
    item: T,
    size: number,
    events: number,
    start: number,
    end: number,
  ): DiskRecord<T> {
    const id = this.window.push(seg, start, end, events);
    this.readOff = end;
    this.readRecords++;
    this.readEvents += events;
    this.unreadItems--;
    this.unreadEvents -= events;
    return { id, item, size };
  }

  /** Skips the unread rest of `seg` (records dropped, counted by the caller); returns 0 bytes read. */
  private skipRest(seg: Segment, reason: string): number {
    const events = seg.events - this.readEvents;
    this.unreadItems -= seg.records - this.readRecords;
    this.unreadEvents -= events;
    this.liveBytes -= seg.valid - this.readOff;
    this.readOff = seg.valid;
    this.readRecords = seg.records;
    this.readEvents = seg.events;
    this.cache.dropSegment(seg);
    if (reason !== '') this.opts.metrics.drop(this.opts.stage, reason, events);
    return 0;
  }

  /** Drops the oldest unread segments while the unacknowledged records pass `maxBytes`. */
  private enforceBound(): number {
    let dropped = 0;
    while (this.liveBytes > this.opts.maxBytes && this.unreadItems > 0) {
      const seg = this.readSeg;
      if (seg === null || this.readOff >= seg.valid) {
        if (!this.advance()) break;
        continue;
      }
      if (seg === this.writer.seg) this.writer.roll();
      const before = this.unreadEvents;
      this.skipRest(seg, '');
      dropped += before - this.unreadEvents;
    }
    if (dropped > 0) this.commit();
    return dropped;
  }

  /** Moves the read position to the next segment; false when there is none. */
  private advance(): boolean {
    const i = this.readSeg === null ? -1 : this.segments.indexOf(this.readSeg);
    const next = this.segments[i + 1];
    if (next === undefined) return false;
    this.closeReadFd();
    this.readSeg = next;
    this.readOff = SEGMENT_HEADER_BYTES;
    this.readRecords = 0;
    this.readEvents = 0;
    return true;
  }

  /** Writes the committed position and deletes the segments wholly before it. */
  private commit(): void {
    let at: QueuePosition;
    if (!this.window.empty) at = { segment: this.window.headSeg.index, offset: this.window.headStart };
    else if (this.readSeg !== null) at = { segment: this.readSeg.index, offset: this.readOff };
    else at = { segment: this.lastIndex + 1, offset: SEGMENT_HEADER_BYTES };
    const readDone = (s: Segment): boolean =>
      s === this.readSeg && this.readOff >= s.valid && s !== this.writer.seg;
    while (this.segments.length > 0) {
      const s = this.segments[0]!;
      const before = s.index < at.segment;
      const finished = s.index === at.segment && readDone(s) && this.window.empty;
      if (!before && !finished) break;
      if (s === this.readSeg) {
        this.closeReadFd();
        this.readSeg = null;
      }
      if (finished) at = { segment: s.index + 1, offset: SEGMENT_HEADER_BYTES };
      this.segments.shift();
      this.fileBytes -= s.bytes;
      try {
        unlinkSync(s.path);
      } catch (err) {
        this.log.warn(
          { err: errorMessage(err), file: s.path },
          'disk queue: could not delete a delivered segment',
        );
      }
    }
    if (this.readSeg === null && this.segments.length > 0 && this.window.empty) {
      this.readSeg = this.segments[0]!;
      this.readOff = SEGMENT_HEADER_BYTES;
      this.readRecords = 0;
      this.readEvents = 0;
    }
    this.checkpoint.write(at);
    this.gauge();
  }

  private ensureWriter(): Segment {
    const { seg, created } = this.writer.current(this.lastIndex);
    if (!created) return seg;
    this.lastIndex = seg.index;
    this.segments.push(seg);
    this.fileBytes += seg.bytes;
    if (this.readSeg === null) {
      this.readSeg = seg;
      this.readOff = seg.bytes;
      this.readRecords = 0;
      this.readEvents = 0;
    }
    return seg;
  }

  private closeReadFd(): void {
    if (this.readFd !== null) closeSync(this.readFd);
    this.readFd = null;
  }

  private gauge(): void {
    this.opts.metrics.queueDiskBytes.set({ queue: this.opts.stage }, this.fileBytes);
  }
}
