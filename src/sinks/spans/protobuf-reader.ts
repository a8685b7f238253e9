/**
 * A minimal protobuf wire-format reader: enough to read small server replies (partial success,
 * google.rpc.Status details). Unknown fields are skipped; malformed input throws RangeError.
 */
export class ProtobufReader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly end = buf.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a double (exact below 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError('protobuf: varint longer than 10 bytes');
  }

  /** Reads a tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }

  /** The bytes of a length-delimited field. */
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new RangeError('protobuf: truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`protobuf: unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new RangeError('protobuf: truncated fixed field');
  }
}
