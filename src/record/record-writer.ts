import { closeSync, openSync, writeSync } from 'node:fs';
import { HEADER } from '../events/layout';
import { scanCgroupPaths } from './cgroup-paths';
import { ChunkType, encodeChunkHeader, encodePreamble, pad8 } from './record-format';
import type { RecordHeader, RecordTrailer } from './record-format';

/** Rescan the cgroup tree for unresolved ids at most this often while recording. */
export const CGROUP_RESCAN_MS = 1000;

const ZEROS = Buffer.alloc(8);

/**
 * Writes a recording: the header, then each raw batch as it arrives, the cgroup paths of the ids
 * seen (resolved while recording, since short-lived cgroups may be gone by the end) and a trailer.
 * Writes are synchronous and per batch (a CLI tool, not the agent's hot path).
 */
export class RecordWriter {
  private readonly fd: number;
  private readonly started = process.hrtime.bigint();
  private readonly seen = new Set<number>();
  private readonly unresolved = new Set<number>();
  private lastScan = 0;
  private batches = 0;
  private records = 0;
  private closed = false;

  constructor(
    readonly path: string,
    header: RecordHeader,
    private readonly cgroupRoot: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, encodePreamble(header));
  }

  private elapsedNs(): number {
    return Number(process.hrtime.bigint() - this.started);
  }

  private chunk(type: ChunkType, payload: Buffer): void {
    writeSync(this.fd, encodeChunkHeader(type, payload.length, this.elapsedNs()));
    writeSync(this.fd, payload);
    const pad = pad8(payload.length) - payload.length;
    if (pad > 0) writeSync(this.fd, ZEROS, 0, pad);
  }

  /** Appends one batch of raw records (as Tracer.next() returned it). */
  writeBatch(batch: Buffer): void {
    if (this.closed) throw new Error(`record ${this.path}: already closed`);
    this.chunk(ChunkType.Batch, batch);
    this.batches++;
    let off = 0;
    while (off + HEADER.size <= batch.length) {
      const size = batch.readUInt16LE(off + HEADER.recordSize);
      if (size < HEADER.size || off + size > batch.length) break;
      const id =
        batch.readUInt32LE(off + HEADER.cgroupId) +
        batch.readUInt32LE(off + HEADER.cgroupId + 4) * 4294967296;
      if (!this.seen.has(id)) {
        this.seen.add(id);
        this.unresolved.add(id);
      }
      this.records++;
      off += (size + 7) & ~7;
    }
    if (this.unresolved.size > 0 && this.now() - this.lastScan >= CGROUP_RESCAN_MS) this.resolveCgroups();
  }

  /** Resolves the ids seen so far and not yet resolved; writes what it found. */
  resolveCgroups(): void {
    this.lastScan = this.now();
    if (this.cgroupRoot === null || this.unresolved.size === 0) return;
    const found = scanCgroupPaths(this.cgroupRoot, this.unresolved);
    if (found.size === 0) return;
    for (const id of found.keys()) this.unresolved.delete(id);
    this.chunk(ChunkType.Cgroups, Buffer.from(JSON.stringify([...found.entries()]), 'utf8'));
  }

  get stats(): { batches: number; records: number; cgroupsSeen: number; cgroupsUnresolved: number } {
    return {
      batches: this.batches,
      records: this.records,
      cgroupsSeen: this.seen.size,
      cgroupsUnresolved: this.unresolved.size,
    };
  }

  /** Final cgroup scan, the trailer, close. Idempotent. */
  close(kernelLost: Record<string, number>): RecordTrailer | undefined {
    if (this.closed) return undefined;
    this.resolveCgroups();
    const trailer: RecordTrailer = {
      batches: this.batches,
      records: this.records,
      durationNs: this.elapsedNs(),
      kernelLost,
    };
    this.chunk(ChunkType.Trailer, Buffer.from(JSON.stringify(trailer), 'utf8'));
    this.closed = true;
    closeSync(this.fd);
    return trailer;
  }
}
