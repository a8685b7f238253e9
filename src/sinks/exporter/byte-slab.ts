/**
 * Bytes of queued items carved out of shared slabs (one allocation per slab instead of one per
 * item): encoded spans and log records, Kafka json values. Queued as strings or objects they would
 * outlive V8's young generation and cost a full collection each to free; as slices of a slab they
 * are one small object each, their bytes outside the heap. A slab lives as long as any slice of it
 * (the items of a few consecutive batches, released together). An item over a quarter of a slab
 * gets a buffer of its own.
 */
export class ByteSlab {
  private slab = Buffer.allocUnsafeSlow(0);
  private used = 0;

  constructor(private readonly slabBytes: number) {}

  /** A copy of `src[from, to)`. */
  copy(src: Uint8Array, from: number, to: number): Buffer {
    const n = to - from;
    // A copy of its own, never a view of `src` (the caller's buffer is written again).
    if (n > this.slabBytes / 4) return Buffer.from(src.subarray(from, to));
    const out = this.reserve(n);
    out.set(src.subarray(from, to));
    return out;
  }

  /** `text` as UTF-8. */
  utf8(text: string): Buffer {
    // UTF-16 code units → at most 3 UTF-8 bytes each.
    const max = text.length * 3;
    if (max > this.slabBytes / 4) return Buffer.from(text, 'utf8');
    const n = this.room(max).write(text, this.used, 'utf8');
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  private reserve(n: number): Buffer {
    const out = this.room(n).subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  /** The current slab, or a new one when fewer than `n` bytes are left in it. */
  private room(n: number): Buffer {
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    return this.slab;
  }
}
