import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { HEADER, RECORD_VERSION } from '../../src/events/layout';
import { CHUNK_HEADER_BYTES, PREAMBLE_BYTES, pad8 } from '../../src/record/record-format';
import type { RecordHeader } from '../../src/record/record-format';
import { RecordFileReader, RecordFormatError, readRecording } from '../../src/record/record-reader';
import { RecordWriter } from '../../src/record/record-writer';
import { Rng, mutate, validRecords } from '../helpers/fuzz';
import { recordHeader } from '../helpers/records';

// In memory where the machine has it: the fuzz cases rewrite one file thousands of times.
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'podtrace-record-reader-'));

const header = (): RecordHeader => recordHeader({ probes: ['process', 'tcp', 'oom'] });

/** A real recording: three batches of every kind, a cgroups chunk, a trailer. */
function recording(): { bytes: Buffer; chunkAt: number[]; batchAt: number } {
  const file = join(dir, 'valid.ptrec');
  const writer = new RecordWriter(file, header(), null);
  const rng = new Rng(7);
  for (let i = 0; i < 3; i++) writer.writeBatch(Buffer.concat(validRecords(rng)));
  writer.close({ 'process.exec': 1 });
  const bytes = readFileSync(file);
  const chunkAt: number[] = [];
  let pos = PREAMBLE_BYTES + pad8(bytes.readUInt32LE(12));
  while (pos < bytes.length) {
    chunkAt.push(pos);
    pos += CHUNK_HEADER_BYTES + pad8(bytes.readUInt32LE(pos + 4));
  }
  return { bytes, chunkAt, batchAt: chunkAt[0] as number };
}

const valid = recording();
let n = 0;

function withBytes(bytes: Buffer): string {
  const file = join(dir, `case-${n++}.ptrec`);
  writeFileSync(file, bytes);
  return file;
}

function edit(fn: (b: Buffer) => Buffer | void): string {
  const b = Buffer.from(valid.bytes);
  return withBytes(fn(b) ?? b);
}

async function readAll(file: string): Promise<PodtraceEvent[]> {
  const rec = await readRecording(file);
  const out: PodtraceEvent[] = [];
  const decoder = new RecordDecoder(new BootClock(() => rec.header.clockOffsetNs));
  for (const b of rec.batches) decoder.decode(b, out);
  return out;
}

async function refusal(file: string): Promise<RecordFormatError> {
  try {
    await readAll(file);
  } catch (err) {
    if (err instanceof RecordFormatError) return err;
    throw err;
  }
  throw new Error(`${file} was accepted`);
}

const B = valid.batchAt;
/** The first padding byte of a chunk (cgroups or trailer JSON) or else the header, whose length is not a multiple of 8. */
const PADDED = ((): number => {
  for (const at of valid.chunkAt) {
    const len = valid.bytes.readUInt32LE(at + 4);
    if (len % 8 !== 0) return at + CHUNK_HEADER_BYTES + len;
  }
  const json = valid.bytes.readUInt32LE(12);
  if (json % 8 !== 0) return PREAMBLE_BYTES + json;
  throw new Error('no padding in the fixture');
})();
const PAYLOAD = B + CHUNK_HEADER_BYTES;

/** Named corruptions: each must be refused naming the file and exactly this byte. */
const CORRUPTIONS: Array<[string, () => string, number, RegExp]> = [
  ['empty file', () => withBytes(Buffer.alloc(0)), 0, /shorter than the 16-byte preamble/],
  ['bad magic', () => edit((b) => void b.write('XXRECORD', 0, 'latin1')), 0, /bad magic/],
  ['format version', () => edit((b) => void b.writeUInt16LE(9, 8)), 8, /format version 9/],
  ['layout version', () => edit((b) => void b.writeUInt16LE(RECORD_VERSION + 1, 10)), 10, /layout version/],
  [
    'header length past the end',
    () => edit((b) => void b.writeUInt32LE(0xfffffff0, 12)),
    12,
    /header length/,
  ],
  ['header not JSON', () => edit((b) => void b.write('}', PREAMBLE_BYTES)), 16, /header is not valid JSON/],
  [
    'header field wrong type',
    () =>
      edit((b) => {
        const at = b.indexOf('"nodeName":"node-1"');
        b.write('"nodeName":       0', at);
      }),
    16,
    /header field nodeName is 0, not a string/,
  ],
  ['chunk type', () => edit((b) => void b.writeUInt32LE(9, B)), B, /chunk type 9 is not/],
  [
    'chunk length 4 GiB (was: node abort, args[3]->IsInt32())',
    () => edit((b) => void b.writeUInt32LE(0xffffffff, B + 4)),
    B + 4,
    /chunk length 4294967295 is larger than any chunk/,
  ],
  [
    'capture time going back',
    () => edit((b) => void b.writeBigUInt64LE(0xffffffffffn, B + 8)),
    (valid.chunkAt[1] as number) + 8,
    /capture time .* before the previous chunk/,
  ],
  [
    'record size smaller than a header',
    () => edit((b) => void b.writeUInt16LE(8, PAYLOAD + HEADER.recordSize)),
    PAYLOAD + HEADER.recordSize,
    /record size 8 is smaller than its header/,
  ],
  [
    'record size past its batch',
    () => edit((b) => void b.writeUInt16LE(0xfff0, PAYLOAD + HEADER.recordSize)),
    PAYLOAD + HEADER.recordSize,
    /record size 65520 runs past the end of its batch/,
  ],
  ['non-zero padding', () => edit((b) => void (b[PADDED] = 0x20)), PADDED, /padding is not zero/],
];

describe('RecordFileReader', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('.chunks', () => {
    it('reads a valid recording whole', async () => {
      const file = withBytes(valid.bytes);
      expect(await readAll(file)).toHaveLength(18);
      const reader = await RecordFileReader.open(file);
      expect(await reader.scan()).toEqual({ chunks: 4, batches: 3, truncatedAt: null });
    });

    it.each(CORRUPTIONS)('refuses %s, naming the file and byte', async (_name, make, offset, message) => {
      const file = make();
      const err = await refusal(file);
      expect(err.file).toBe(file);
      expect(err.message).toMatch(message);
      expect(err.message.startsWith(`${file}: byte ${offset}: `)).toBe(true);
      expect(err.offset).toBe(offset);
    });

    it('reads a file cut inside its last chunk up to that chunk, and says where', async () => {
      const last = valid.chunkAt[valid.chunkAt.length - 1] as number;
      const file = withBytes(valid.bytes.subarray(0, last + 20));
      const reader = await RecordFileReader.open(file);
      expect(await reader.scan()).toEqual({ chunks: 3, batches: 3, truncatedAt: last });
    });
  });

  describe('.chunks (fuzz)', () => {
    it('refuses with file and offset, or reads and decodes, 2500 mutated and random files', async () => {
      const rng = new Rng(0xfeed);
      const hot = [8, 12, ...valid.chunkAt, ...valid.chunkAt.map((c) => c + CHUNK_HEADER_BYTES)];
      const file = join(dir, 'fuzz.ptrec');
      let refused = 0;
      let read = 0;
      for (let i = 0; i < 2500; i++) {
        const bytes =
          i % 10 === 0
            ? Buffer.concat([valid.bytes.subarray(0, rng.int(64)), rng.bytes(rng.int(512))])
            : mutate(rng, valid.bytes, hot);
        writeFileSync(file, bytes);
        try {
          await readAll(file);
          read++;
        } catch (err) {
          if (!(err instanceof RecordFormatError))
            throw new Error(`case ${i}: ${String(err)}`, { cause: err });
          expect(err.file).toBe(file);
          if (!(err.offset >= 0 && err.offset <= bytes.length))
            throw new Error(`case ${i}: offset ${err.offset}`, { cause: err });
          refused++;
        }
      }
      expect(refused).toBeGreaterThan(500);
      expect(read).toBeGreaterThan(100);
    });
  });
});
