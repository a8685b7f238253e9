/** What kafkajs hands its Record v0 encoder (the producer's message, spread, plus the deltas). */
export interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

/** The part of kafkajs's `Encoder` that the record batch reads from an encoded record. */
export interface EncodedRecord {
  buf: Buffer;
  offset: number;
}

export type RecordEncoder = (args: RecordArgs) => EncodedRecord;

/** Deltas written by the fast path: 32-bit zigzag equals Kafka's 64-bit varlong below this. */
const SMALL = 2 ** 30;

const isSmallInt = (n: unknown): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n > -SMALL && n < SMALL;

/** A value kafkajs writes as varint-length bytes: null (length -1), a string (UTF-8) or a Buffer. */
const isPlainBytes = (v: unknown): v is string | Buffer | null | undefined =>
  v == null || typeof v === 'string' || Buffer.isBuffer(v);

function noHeaders(h: unknown): boolean {
  if (h === undefined) return true;
  if (h === null || typeof h !== 'object') return false;
  for (const _ in h) return false;
  return true;
}

/** Bytes of the zigzag varint of a small signed integer. */
function varintSize(n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    size++;
    v >>>= 7;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

const byteLength = (v: string | Buffer | null | undefined): number =>
  v == null ? -1 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;

function writeBytes(buf: Buffer, at: number, v: string | Buffer | null | undefined, n: number): number {
  at = writeVarint(buf, at, n);
  if (v == null) return at;
  if (typeof v === 'string') buf.write(v, at, n, 'utf8');
  else v.copy(buf, at);
  return at + n;
}

/**
 * Kafka's Record (v2 record batches: length varint · attributes int8 · timestampDelta varlong ·
 * offsetDelta varint · key and value as varint length + bytes, -1 for null · header count varint),
 * the same bytes kafkajs 2.2's `recordBatch/record/v0` writes, into one exactly sized buffer.
 * kafkajs's own makes per record a zero-filled 512-byte Encoder that a ~700-byte value outgrows
 * (a second buffer and a copy), a small Buffer per varint and BigInt arithmetic for the varlong.
 * Records with headers, or deltas outside ±2^30, go to kafkajs's encoder (`fallback`).
 */
export function leanRecordEncoder(fallback: RecordEncoder, encoderPrototype: object): RecordEncoder {
  return function encodeRecord(args: RecordArgs): EncodedRecord {
    const offsetDelta = args.offsetDelta ?? 0;
    const timestampDelta = args.timestampDelta ?? 0;
    const { key, value } = args;
    if (
      !isSmallInt(offsetDelta) ||
      !isSmallInt(timestampDelta) ||
      !isPlainBytes(key) ||
      !isPlainBytes(value) ||
      !noHeaders(args.headers)
    )
      return fallback(args);
    const keyLength = byteLength(key);
    const valueLength = byteLength(value);
    const body =
      1 +
      varintSize(timestampDelta) +
      varintSize(offsetDelta) +
      varintSize(keyLength) +
      (keyLength > 0 ? keyLength : 0) +
      varintSize(valueLength) +
      (valueLength > 0 ? valueLength : 0) +
      1;
    const total = varintSize(body) + body;
    const buf = Buffer.allocUnsafe(total);
    let at = writeVarint(buf, 0, body);
    buf[at++] = 0;
    at = writeVarint(buf, at, timestampDelta);
    at = writeVarint(buf, at, offsetDelta);
    at = writeBytes(buf, at, key, keyLength);
    at = writeBytes(buf, at, value, valueLength);
    buf[at] = 0;
    // An Encoder as kafkajs's record batch reads it (`buf`, `offset`, its prototype's `buffer`).
    const encoded = Object.create(encoderPrototype) as EncodedRecord;
    encoded.buf = buf;
    encoded.offset = total;
    return encoded;
  };
}
