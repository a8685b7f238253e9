import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { HEADER } from '../../src/events/layout';
import { bpfObjectDir, loadNativeAddon } from '../../src/native/native-addon';
import type { NativeTracer } from '../../src/native/native-addon';
import { missingBpf } from '../helpers/kernel';
import { describeIf } from '../helpers/prereq';

const MAX_PENDING = 4;
const BATCH_BYTES = 4096;
const BATCHES = 200;

/** Walks a batch record by record: every record header is whole and sizes add up to the batch length. */
function recordsIn(buf: Buffer): number {
  let off = 0;
  let n = 0;
  while (off < buf.length) {
    const size = buf.readUInt16LE(off + HEADER.recordSize);
    if (size < HEADER.size || off + size > buf.length) throw new Error(`bad record at ${off}: size ${size}`);
    off += (size + 7) & ~7;
    n++;
  }
  if (off !== buf.length) throw new Error(`batch of ${buf.length} bytes ends inside a record (${off})`);
  return n;
}

describeIf(missingBpf())('Tracer batch pool (real kernel)', () => {
  let load: ChildProcess | undefined;
  let tracer: NativeTracer | undefined;

  beforeEach(() => {
    // Exec load: process.fork/exec/exit records keep arriving.
    load = spawn('/bin/sh', ['-c', 'while :; do /bin/true; done'], { stdio: 'ignore' });
    tracer = new (loadNativeAddon().Tracer)({
      objectDir: bpfObjectDir(),
      probes: ['process'],
      batchBytes: BATCH_BYTES,
      maxPendingBatches: MAX_PENDING,
      drainIntervalMs: 1,
    });
    tracer.start();
  });

  afterEach(() => {
    tracer?.close();
    load?.kill('SIGKILL');
  });

  describe('.nextInto', () => {
    it('rejects a target that is not a Buffer, naming it', () => {
      expect(() => (tracer as NativeTracer).nextInto('x' as unknown as Buffer)).toThrow(
        /nextInto\(target\): target must be a Buffer/,
      );
    });

    it('hands a batch longer than the target back as its own Buffer, intact', async () => {
      const t = tracer as NativeTracer;
      const tiny = Buffer.alloc(8);
      let own = 0;
      for (let i = 0; i < 20; i++) {
        const got = await t.nextInto(tiny);
        if (got === null) break;
        if (typeof got === 'number') {
          expect(got).toBeLessThanOrEqual(tiny.length);
          continue;
        }
        expect(recordsIn(got)).toBeGreaterThan(0);
        own++;
      }
      expect(own).toBeGreaterThan(0);
    }, 60_000);

    it('recycles the drain buffers: hundreds of batches from a pool bounded by the pending batches', async () => {
      const t = tracer as NativeTracer;
      const target = Buffer.allocUnsafeSlow(BATCH_BYTES + 64 * 1024);
      let records = 0;
      for (let i = 0; i < BATCHES; i++) {
        const got = await t.nextInto(target);
        expect(typeof got).toBe('number');
        records += recordsIn(target.subarray(0, got as number));
      }
      const stats = t.stats();
      expect(records).toBeGreaterThan(BATCHES);
      // Every batch that ever existed: the pending ones, the one being filled, one being copied.
      expect(stats.allocations).toBeLessThanOrEqual(MAX_PENDING + 2);
      expect(stats.batches).toBeGreaterThanOrEqual(BATCHES);
    }, 60_000);

    it('yields what close() left over, then null', async () => {
      const t = tracer as NativeTracer;
      // Let the drain thread fill every pending slot (the test's timeout bounds the wait).
      while (t.stats().stalls === 0) await new Promise((r) => setTimeout(r, 10));
      t.close();
      const target = Buffer.allocUnsafeSlow(BATCH_BYTES + 64 * 1024);
      let after = 0;
      for (;;) {
        const got = await t.nextInto(target);
        if (got === null) break;
        recordsIn(typeof got === 'number' ? target.subarray(0, got) : got);
        after++;
      }
      expect(after).toBeGreaterThan(0);
    }, 60_000);
  });

  describe('.next', () => {
    it('allocates a buffer per batch (JS owns each; the GC frees it)', async () => {
      const t = tracer as NativeTracer;
      for (let i = 0; i < 20; i++) expect(recordsIn((await t.next()) as Buffer)).toBeGreaterThan(0);
      expect(t.stats().allocations).toBeGreaterThan(MAX_PENDING + 2);
    }, 60_000);
  });
});
