import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameDefect } from './segment-file';
import { SEGMENT_HEADER_BYTES, isSegmentHeader, parseFrames } from './segment-file';

/** One segment file of a disk queue, as the queue tracks it. */
export interface Segment {
  index: number;
  path: string;
  /** File size. */
  bytes: number;
  /** End of the readable records (the write position for the segment being written). */
  valid: number;
  /** Records and events between where reading starts in it and `valid`. */
  records: number;
  events: number;
}

const SEGMENT_NAME = /^(\d{12})\.seg$/;

export function segmentName(index: number): string {
  return `${String(index).padStart(12, '0')}.seg`;
}

/** The segment indices in `dir`, oldest first (other files are left alone). */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT_NAME.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Reads a segment a previous run wrote, from `start` on: its whole valid records are counted; the
 * first defect (a bad header, a record cut short, a CRC or length that does not hold) ends it.
 */
export function scanSegment(
  dir: string,
  index: number,
  start: number,
): { seg: Segment; defect: { kind: FrameDefect | 'header'; at: number } | null } {
  const path = join(dir, segmentName(index));
  const buf = readFileSync(path);
  const seg: Segment = { index, path, bytes: buf.length, valid: start, records: 0, events: 0 };
  if (!isSegmentHeader(buf)) return { seg, defect: { kind: 'header', at: 0 } };
  if (start >= buf.length) return { seg, defect: null };
  const scan = parseFrames(buf, Math.max(start, SEGMENT_HEADER_BYTES));
  for (const f of scan.frames) seg.events += f.payload.readUInt32LE(0);
  seg.records = scan.frames.length;
  seg.valid = scan.end;
  return { seg, defect: scan.defect === null ? null : { kind: scan.defect, at: scan.end } };
}
