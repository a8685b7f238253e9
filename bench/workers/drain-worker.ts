/**
 * The addon side of the drain benchmark, in its own process. Loads the `process` probe group
 * through the native addon exactly as EbpfSource does (default settings, given ring size) and
 * counts the records that reach JavaScript, optionally decoding them with RecordDecoder.
 *
 *   backlog: print "ready", wait for "go N" on stdin, then take the N queued records as fast as
 *            possible; the time runs from the line to the batch that completes N.
 *   live:    take batches for `seconds` while a generator runs; report CPU used.
 */
import { createInterface } from 'node:readline';
import { validateConfig } from '../../src/config/load-config';
import { BootClock } from '../../src/events/clock';
import { RecordDecoder } from '../../src/events/decode';
import type { PodtraceEvent } from '../../src/events/event';
import { HEADER } from '../../src/events/layout';
import { bpfObjectDir, loadNativeAddon } from '../../src/native/native-addon';

export interface DrainArgs {
  mode: 'backlog' | 'live';
  ringBufferBytes: number;
  decode: boolean;
  seconds?: number;
  /** Live mode: take batches with nextInto() into one reused buffer (the pooled drain) instead of next(). */
  pooled?: boolean;
}

export interface DrainResult {
  records: number;
  /** Records the addon had already drained into its pending batches before the clock started (backlog; absent from the C consumer's result). */
  predrained?: number;
  seconds: number;
  lost: number;
  cpuSeconds: number;
  /** Peak RSS of the worker, and the batch buffers the addon allocated (its pool's misses); not from the C consumer. */
  maxRssBytes?: number;
  allocations?: number;
}

function countRecords(buf: Buffer): number {
  let n = 0;
  let off = 0;
  while (off + HEADER.size <= buf.length) {
    const size = buf.readUInt16LE(off + HEADER.recordSize);
    if (size < HEADER.size) break;
    n++;
    off += (size + 7) & ~7;
  }
  return n;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as DrainArgs;
  const ebpf = validateConfig({}).source.ebpf;
  const addon = loadNativeAddon();
  const tracer = new addon.Tracer({
    objectDir: bpfObjectDir(),
    probes: ['process'],
    ringBufferBytes: args.ringBufferBytes,
    argvBytes: ebpf.argvBytes,
    wakeupBytes: Math.floor((args.ringBufferBytes * ebpf.wakeupPercent) / 100),
    drainIntervalMs: ebpf.drainIntervalMs,
    batchBytes: ebpf.batchBytes,
    maxPendingBatches: ebpf.maxPendingBatches,
  });
  tracer.start();
  const decoder = new RecordDecoder(new BootClock(() => addon.clockOffsetNs()));
  const take = (buf: Buffer): number => {
    if (!args.decode) return countRecords(buf);
    const out: PodtraceEvent[] = [];
    decoder.decode(buf, out);
    return out.length;
  };
  const scratch = Buffer.allocUnsafeSlow(ebpf.batchBytes + 64 * 1024);
  process.stdout.write('ready\n');
  let records = 0;
  let predrained = 0;
  let seconds: number;
  let cpuSeconds: number;
  // Read before close(): the drain thread's counters go with it.
  let allocations = NaN;
  if (args.mode === 'backlog') {
    const rl = createInterface({ input: process.stdin });
    // "go N": N records are waiting; the clock runs until JS has them all.
    const line = await new Promise<string>((resolve) => rl.once('line', resolve));
    rl.close();
    const target = Number(line.slice(2));
    predrained = tracer.stats().records;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let last = t0;
    while (records < target) {
      let timer: NodeJS.Timeout | undefined;
      const next = tracer.next();
      const idle = new Promise<'idle'>((r) => (timer = setTimeout(() => r('idle'), 2000)));
      const got = await Promise.race([next, idle]);
      clearTimeout(timer);
      if (got === 'idle') {
        // Fewer records than expected (reported as such): stop waiting.
        tracer.close();
        const rest = await next;
        if (rest) records += take(rest);
        break;
      }
      if (got === null) break;
      records += take(got);
      last = performance.now();
    }
    seconds = (last - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    cpuSeconds = (cpu.user + cpu.system) / 1e6;
  } else {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const stop = setTimeout(
      () => {
        allocations = tracer.stats().allocations;
        tracer.close();
      },
      (args.seconds ?? 5) * 1000,
    );
    for (;;) {
      const got = args.pooled === true ? await tracer.nextInto(scratch) : await tracer.next();
      if (got === null) break;
      records += take(typeof got === 'number' ? scratch.subarray(0, got) : got);
    }
    clearTimeout(stop);
    seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    cpuSeconds = (cpu.user + cpu.system) / 1e6;
  }
  if (Number.isNaN(allocations)) allocations = tracer.stats().allocations;
  tracer.close();
  const lost = tracer.losses().reduce((a, b) => a + b, 0);
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  const result: DrainResult = { records, predrained, seconds, lost, cpuSeconds, maxRssBytes, allocations };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `drain worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
