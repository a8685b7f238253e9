/** Bytes of one slab; a record value over a quarter of it gets a buffer of its own. */
const SLAB_BYTES = 64 * 1024;

/**
 * Record values written as UTF-8 into shared slabs, one allocation per 64 KiB instead of one per
 * record. A queued json value as a string is a tree of string pieces on the V8 heap that outlives
 * the young generation and costs a full collection to free; as a slice of a slab it is one small
 * object and its bytes live outside the heap. A slab lives as long as any value in it (the records
 * of a few consecutive batches, released together).
 */
export class TextSlab {
  private slab = Buffer.allocUnsafeSlow(0);
  private used = 0;

  bytes(text: string): Buffer {
    // UTF-16 code units → at most 3 UTF-8 bytes each.
    const max = text.length * 3;
    if (max > SLAB_BYTES / 4) return Buffer.from(text, 'utf8');
    if (this.used + max > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const n = this.slab.write(text, this.used, 'utf8');
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }
}
