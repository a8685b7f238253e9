import { crc32 } from 'node:zlib';

/**
 * The on-disk format of the durable queue's segment files (src/sinks/exporter/disk-queue.ts):
 *
 *   header  "PTQS" (4 bytes) · format version (u32 LE)
 *   record  payload length (u32 LE) · CRC-32 of the payload (u32 LE) · payload
 *
 * and the payload of a queue record is `events (u32 LE) · the sink's encoded item`. Records are
 * only ever appended; a record cut short by a power loss or with a CRC that does not match ends
 * the segment's readable part (what follows is skipped and counted, never parsed).
 */
export const SEGMENT_MAGIC = 0x53515450; // "PTQS" read as u32 LE
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 8;
export const FRAME_HEADER_BYTES = 8;
/** A length past this is corruption, not a record (no sink item comes near it). */
export const MAX_FRAME_PAYLOAD_BYTES = 256 * 1024 * 1024;

export function segmentHeader(): Buffer {
  const b = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt32LE(SEGMENT_VERSION, 4);
  return b;
}

/** True when `b` starts with a segment header this version reads. */
export function isSegmentHeader(b: Uint8Array): boolean {
  if (b.byteLength < SEGMENT_HEADER_BYTES) return false;
  const v = new DataView(b.buffer, b.byteOffset, SEGMENT_HEADER_BYTES);
  return v.getUint32(0, true) === SEGMENT_MAGIC && v.getUint32(4, true) === SEGMENT_VERSION;
}

/** The bytes one record takes in a segment. */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Frames `payloads` into one buffer, ready for a single append. */
export function encodeFrames(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of payloads) total += FRAME_HEADER_BYTES + p.byteLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of payloads) {
    out.writeUInt32LE(p.byteLength, at);
    out.writeUInt32LE(crc32(p), at + 4);
    out.set(p, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + p.byteLength;
  }
  return out;
}

/** Why parsing stopped before the end of the bytes it was given. */
export type FrameDefect = 'truncated' | 'crc' | 'length';

export interface ParsedFrame {
  /** The payload (a view into the parsed buffer). */
  payload: Buffer;
  /** Offset of the record's first byte within the parsed buffer. */
  start: number;
  /** Offset just past the record. */
  end: number;
}

export interface FrameScan {
  frames: ParsedFrame[];
  /** Offset just past the last whole, valid record. */
  end: number;
  /**
   * Why the bytes after `end` are not a record: `truncated` (cut short — at the end of a file, a
   * power loss; within a read chunk, read further), `crc`, `length` (impossible length); null
   * when everything parsed.
   */
  defect: FrameDefect | null;
  /** For `truncated`: the bytes the cut record needs in all (to read a bigger chunk). */
  need: number;
}

/** Parses the records in `buf` from `start` on, stopping at the first one that is not whole and valid. */
export function parseFrames(buf: Buffer, start: number, maxFrames = Infinity): FrameScan {
  const frames: ParsedFrame[] = [];
  let at = start;
  while (at < buf.length && frames.length < maxFrames) {
    if (buf.length - at < FRAME_HEADER_BYTES)
      return { frames, end: at, defect: 'truncated', need: FRAME_HEADER_BYTES };
    const len = buf.readUInt32LE(at);
    if (len > MAX_FRAME_PAYLOAD_BYTES) return { frames, end: at, defect: 'length', need: 0 };
    const end = at + FRAME_HEADER_BYTES + len;
    if (end > buf.length) return { frames, end: at, defect: 'truncated', need: FRAME_HEADER_BYTES + len };
    const payload = buf.subarray(at + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) return { frames, end: at, defect: 'crc', need: 0 };
    frames.push({ payload, start: at, end });
    at = end;
  }
  return { frames, end: at, defect: null, need: 0 };
}
