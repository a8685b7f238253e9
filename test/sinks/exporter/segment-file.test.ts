import { crc32 } from 'node:zlib';
import {
  FRAME_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  encodeFrames,
  isSegmentHeader,
  parseFrames,
  segmentHeader,
} from '../../../src/sinks/exporter/segment-file';

const payloads = [
  Buffer.from('first record'),
  Buffer.alloc(0),
  Buffer.from('x'.repeat(300)),
  Buffer.from([0, 1, 2, 255]),
];

describe('segment-file', () => {
  describe('encodeFrames', () => {
    it('writes each payload as length (u32 LE) · CRC-32 (u32 LE) · bytes', () => {
      const buf = encodeFrames(payloads.slice(0, 1));
      expect(buf.readUInt32LE(0)).toBe(12);
      expect(buf.readUInt32LE(4)).toBe(crc32(payloads[0]!));
      expect(buf.subarray(FRAME_HEADER_BYTES).toString()).toBe('first record');
    });
  });

  describe('parseFrames', () => {
    it('reads back every record, empty ones included', () => {
      const scan = parseFrames(encodeFrames(payloads), 0);
      expect(scan.defect).toBeNull();
      expect(scan.frames.map((f) => Buffer.from(f.payload))).toEqual(payloads);
    });

    it('stops after maxFrames with the offset of the next record', () => {
      const buf = encodeFrames(payloads);
      const scan = parseFrames(buf, 0, 2);
      expect(scan.frames).toHaveLength(2);
      expect(parseFrames(buf, scan.end).frames.map((f) => f.payload.length)).toEqual([300, 4]);
    });

    it('keeps every whole record and names the cut one truncated, at every byte offset of the last record', () => {
      const whole = encodeFrames(payloads);
      const lastStart = whole.length - (FRAME_HEADER_BYTES + 4);
      for (let cut = lastStart; cut < whole.length; cut++) {
        const scan = parseFrames(whole.subarray(0, cut), 0);
        expect({ cut, records: scan.frames.length, end: scan.end }).toEqual({
          cut,
          records: 3,
          end: lastStart,
        });
        expect(scan.defect).toBe(cut === lastStart ? null : 'truncated');
      }
    });

    it('rejects a record whose bytes changed (CRC), keeping the records before it', () => {
      const buf = encodeFrames(payloads);
      const third = 2 * FRAME_HEADER_BYTES + 12;
      for (const at of [third + 4, third + 7, third + FRAME_HEADER_BYTES, third + FRAME_HEADER_BYTES + 150]) {
        const bad = Buffer.from(buf);
        bad[at] = bad[at]! ^ 0x40;
        const scan = parseFrames(bad, 0);
        expect(scan.frames).toHaveLength(2);
        expect(scan.end).toBe(third);
        expect(scan.defect).toBe('crc');
      }
    });

    it('names an impossible length, without reading past the buffer', () => {
      const bad = Buffer.from(encodeFrames(payloads));
      bad.writeUInt32LE(0xffffff00, 0);
      expect(parseFrames(bad, 0)).toMatchObject({ frames: [], end: 0, defect: 'length' });
    });

    it('rejects random bytes without throwing', () => {
      let seed = 7;
      const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      for (let i = 0; i < 2000; i++) {
        const junk = Buffer.alloc(next() % 64);
        for (let j = 0; j < junk.length; j++) junk[j] = next() & 0xff;
        const scan = parseFrames(junk, 0);
        expect(scan.end).toBeLessThanOrEqual(junk.length);
        if (scan.frames.length > 0) expect(crc32(scan.frames[0]!.payload)).toBe(junk.readUInt32LE(4));
      }
    });
  });

  describe('segmentHeader', () => {
    it('is recognised, and other bytes are not', () => {
      expect(SEGMENT_HEADER_BYTES).toBe(8);
      expect(isSegmentHeader(segmentHeader())).toBe(true);
      expect(isSegmentHeader(Buffer.from('PTQS\x02\0\0\0', 'latin1'))).toBe(false);
      expect(isSegmentHeader(Buffer.from('PTQ'))).toBe(false);
    });
  });
});
