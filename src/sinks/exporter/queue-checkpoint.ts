import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/**
 * The durable queue's committed position: the first record not yet acknowledged, as segment
 * index and byte offset. 16 bytes — "PTQC" · segment (u32 LE) · offset (u32 LE) · CRC-32 of the
 * first 12 — rewritten in place after each acknowledged send. It is not fsynced: a crash can
 * leave it behind the truth, and the records after it are then sent again (at-least-once).
 */
export const CHECKPOINT_FILE = 'committed';
const CHECKPOINT_MAGIC = 0x43515450; // "PTQC"
const CHECKPOINT_BYTES = 16;

export interface QueuePosition {
  segment: number;
  offset: number;
}

export type CheckpointRead =
  { kind: 'ok'; position: QueuePosition } | { kind: 'empty' } | { kind: 'corrupt'; bytes: number };

export class QueueCheckpoint {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(CHECKPOINT_BYTES);
  private last: QueuePosition | null = null;

  /** Opens (creating) the file read-write; throws the fs error (EROFS, EACCES) as it is. */
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a+');
    closeSync(this.fd);
    this.fd = openSync(path, 'r+');
  }

  read(): CheckpointRead {
    const size = fstatSync(this.fd).size;
    if (size === 0) return { kind: 'empty' };
    const b = Buffer.alloc(CHECKPOINT_BYTES);
    const n = readSync(this.fd, b, 0, CHECKPOINT_BYTES, 0);
    if (
      n !== CHECKPOINT_BYTES ||
      b.readUInt32LE(0) !== CHECKPOINT_MAGIC ||
      crc32(b.subarray(0, 12)) !== b.readUInt32LE(12)
    )
      return { kind: 'corrupt', bytes: size };
    const position = { segment: b.readUInt32LE(4), offset: b.readUInt32LE(8) };
    this.last = position;
    return { kind: 'ok', position };
  }

  /** Writes `p` unless it is what the file already says. */
  write(p: QueuePosition): void {
    if (this.last !== null && this.last.segment === p.segment && this.last.offset === p.offset) return;
    const b = this.buf;
    b.writeUInt32LE(CHECKPOINT_MAGIC, 0);
    b.writeUInt32LE(p.segment, 4);
    b.writeUInt32LE(p.offset, 8);
    b.writeUInt32LE(crc32(b.subarray(0, 12)), 12);
    writeSync(this.fd, b, 0, CHECKPOINT_BYTES, 0);
    this.last = { segment: p.segment, offset: p.offset };
  }

  close(): void {
    closeSync(this.fd);
  }
}
