import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { segmentHeader } from './segment-file';
import type { Segment } from './segment-scan';
import { segmentName } from './segment-scan';

/**
 * The segment a disk queue appends to. A new one is started past `segmentBytes` and at every
 * start (a previous run's last segment may end in a torn record: nothing is appended after it).
 * A finished segment is fdatasynced once; appends are not (see docs/operations.md#delivery).
 */
export class SegmentWriter {
  private fd: number | null = null;
  /** The segment being written, or null before the first append and after a roll. */
  seg: Segment | null = null;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly log: Logger,
  ) {}

  /** The segment to append to; `created` when it was started now (after `lastIndex`). */
  current(lastIndex: number): { seg: Segment; created: boolean } {
    if (this.seg !== null && this.seg.bytes >= this.segmentBytes) this.roll();
    if (this.seg !== null) return { seg: this.seg, created: false };
    const index = lastIndex + 1;
    const path = join(this.dir, segmentName(index));
    const fd = openSync(path, 'wx');
    const header = segmentHeader();
    writeSync(fd, header, 0, header.length, 0);
    this.fd = fd;
    this.seg = { index, path, bytes: header.length, valid: header.length, records: 0, events: 0 };
    return { seg: this.seg, created: true };
  }

  /** Writes `buf` at the end of the current segment (throws ENOSPC, EIO as they are). */
  write(buf: Buffer): void {
    if (this.fd === null || this.seg === null) throw new Error('no segment open');
    writeSync(this.fd, buf, 0, buf.length, this.seg.bytes);
  }

  /** Finishes the current segment: synced, closed; the next append starts a new one. */
  roll(): void {
    if (this.fd === null) return;
    try {
      fdatasyncSync(this.fd);
    } catch (err) {
      this.log.warn({ err: errorMessage(err), file: this.seg?.path }, 'disk queue: fdatasync failed');
    }
    closeSync(this.fd);
    this.fd = null;
    this.seg = null;
  }
}
