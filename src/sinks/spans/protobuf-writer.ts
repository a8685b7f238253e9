import type { ByteSlab } from '../exporter/byte-slab';

/**
 * A minimal protobuf wire-format writer over one growable Buffer: varints, fixed32/64, doubles,
 * strings/bytes and nested (length-delimited) messages. Nested messages are written in place:
 * `fork()` reserves one length byte, `join()` fills it in and, for messages of 128 bytes or more,
 * moves the body right by the few extra bytes the length varint needs. No intermediate objects.
 */
const TWO_32 = 0x1_0000_0000;
const INITIAL_CAPACITY = 64 * 1024;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x20_0000) return 3;
  if (n < 0x1000_0000) return 4;
  let size = 5;
  let hi = Math.floor(n / 0x8_0000_0000);
  while (hi > 0) {
    size++;
    hi = Math.floor(hi / 0x80);
  }
  return size;
}

export class ProtobufWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.pos;
  }

  /** Forgets what was written; keeps the buffer for the next message. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written (the writer can be reused afterwards). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A copy of the bytes written from `from` to the current end, out of `into`. */
  copyTail(from: number, into: ByteSlab): Uint8Array {
    return into.copy(this.buf, from, this.pos);
  }

  /** A view of what was written: valid only until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A non-negative integer below 2^32. */
  uint32(n: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = n >>> 0;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** An int64 varint from an integer-valued double (negative values as 10-byte two's complement). */
  int64(n: number): void {
    if (n >= 0 && n < TWO_32) {
      this.uint32(n);
      return;
    }
    let lo: number;
    let hi: number;
    if (n >= 0) {
      hi = Math.floor(n / TWO_32) >>> 0;
      lo = (n - Math.floor(n / TWO_32) * TWO_32) >>> 0;
    } else {
      const big = BigInt.asUintN(64, BigInt(Math.trunc(n)));
      hi = Number(big >> 32n) >>> 0;
      lo = Number(big & 0xffff_ffffn) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    while (hi > 0 || lo >= 0x80) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  fixed32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(n >>> 0, this.pos);
    this.pos += 4;
  }

  /** fixed64 from a non-negative integer-valued double (e.g. Unix ns), split into lo/hi words. */
  fixed64(n: number): void {
    this.ensure(8);
    const v = n > 0 ? n : 0;
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /**
   * fixed64 of `a - b` computed exactly on 32-bit words (`a` an integer-valued double such as a
   * Unix ns time, `b` a non-negative integer below 2^53 such as a duration); clamps at 0.
   */
  fixed64Difference(a: number, b: number): void {
    const aa = a > 0 ? a : 0;
    const bb = b > 0 ? b : 0;
    let hi = Math.floor(aa / TWO_32) - Math.floor(bb / TWO_32);
    let lo = aa - Math.floor(aa / TWO_32) * TWO_32 - (bb - Math.floor(bb / TWO_32) * TWO_32);
    if (lo < 0) {
      lo += TWO_32;
      hi -= 1;
    }
    if (hi < 0) {
      hi = 0;
      lo = 0;
    }
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A length-prefixed UTF-8 string (without tag). */
  string(s: string): void {
    const max = s.length * 3;
    if (max < 0x80) {
      this.ensure(1 + max);
      const at = this.pos++;
      const n = this.buf.write(s, this.pos, 'utf8');
      this.buf[at] = n;
      this.pos += n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uint32(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  /** Length-prefixed bytes (without tag). */
  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.raw(b);
  }

  /** Bytes copied as they are (pre-encoded fields). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Starts a nested message after its tag; returns the position `join()` needs. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the nested message started at `at`: writes its length before it. */
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    const size = varintSize(len);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = len;
    let p = at;
    while (v >= 0x80) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[p] = v;
  }
}
