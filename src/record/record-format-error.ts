import { PodtraceError } from '../core/errors';

/**
 * A recording that is not what `podtrace record` writes: names the file and the byte offset of
 * the first field found wrong, e.g. `/var/tmp/a.ptrec: byte 4136: chunk type 9 is not …`.
 */
export class RecordFormatError extends PodtraceError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${file}: byte ${offset}: ${problem}`);
  }
}
