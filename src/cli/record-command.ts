import { hostname, release } from 'node:os';
import { errorMessage } from '../core/errors';
import { loadConfig } from '../config/load-config';
import { createLogger } from '../core/logger';
import { NAMED_KINDS, PROBE_GROUPS, eventName } from '../events/event-kind';
import type { ProbeGroup } from '../events/event-kind';
import { RECORD_VERSION, layoutMismatches } from '../events/layout';
import { bpfObjectDir, loadNativeAddon } from '../native/native-addon';
import { cgroup2Root } from '../record/cgroup-paths';
import { RECORD_FORMAT_VERSION } from '../record/record-format';
import { RecordWriter } from '../record/record-writer';
import { UsageError, parseFlags } from './args';
import { resolveConfigPath } from './config-command';

export const RECORD_USAGE =
  'podtrace record --out FILE [--duration 10s] [--probes process,tcp,oom] [--config FILE]';

export interface RecordArgs {
  out: string;
  /** Stop after this long; undefined = until SIGINT/SIGTERM. */
  durationMs?: number;
  probes?: ProbeGroup[];
  config?: string;
}

/** `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  return ms > 0 ? ms : null;
}

export function parseRecordArgs(argv: readonly string[]): RecordArgs {
  const flags = parseFlags(argv, ['out', 'duration', 'probes', 'config']);
  const out = flags.get('out');
  if (out === undefined) throw new UsageError(`record: --out FILE is required\n  ${RECORD_USAGE}`);
  const args: RecordArgs = { out };
  const duration = flags.get('duration');
  if (duration !== undefined) {
    const ms = parseDuration(duration);
    if (ms === null)
      throw new UsageError(`--duration: "${duration}" is not a duration (e.g. 10s, 500ms, 2m)`);
    args.durationMs = ms;
  }
  const probes = flags.get('probes');
  if (probes !== undefined) {
    const list = probes.split(',').map((p) => p.trim());
    for (const p of list)
      if (!(PROBE_GROUPS as readonly string[]).includes(p))
        throw new UsageError(`--probes: "${p}" is not a probe group (one of ${PROBE_GROUPS.join(', ')})`);
    args.probes = [...new Set(list)] as ProbeGroup[];
  }
  const config = flags.get('config');
  if (config !== undefined) args.config = config;
  return args;
}

/**
 * `podtrace record`: raw ring-buffer batches, undecoded, into a file that `source.kind: replay`
 * plays back through the same decoder (docs/record-format.md).
 */
export async function recordCommand(argv: readonly string[]): Promise<number> {
  const args = parseRecordArgs(argv);
  const config = loadConfig(resolveConfigPath(args.config));
  const ebpf = config.source.ebpf;
  const probes = args.probes ?? ebpf.probes;
  const logger = createLogger({ destination: process.stderr });
  const addon = loadNativeAddon();
  const mismatches = layoutMismatches(addon.layout());
  if (mismatches.length > 0) throw new Error(`record layout mismatch: ${mismatches.join('; ')}`);
  const log = logger.child({ component: 'libbpf' });
  const tracer = new addon.Tracer({
    objectDir: bpfObjectDir(),
    probes: [...probes],
    ringBufferBytes: ebpf.ringBufferBytes,
    argvBytes: ebpf.argvBytes,
    wakeupBytes: Math.floor((ebpf.ringBufferBytes * ebpf.wakeupPercent) / 100),
    drainIntervalMs: ebpf.drainIntervalMs,
    batchBytes: ebpf.batchBytes,
    maxPendingBatches: ebpf.maxPendingBatches,
    log: (level, message) => (level === 0 ? log.warn(message) : log.debug(message)),
  });
  tracer.start();
  const offset = addon.clockOffsetNs();
  const root = cgroup2Root();
  const writer = new RecordWriter(
    args.out,
    {
      formatVersion: RECORD_FORMAT_VERSION,
      recordVersion: RECORD_VERSION,
      nodeName: config.nodeName ?? hostname(),
      kernelRelease: release(),
      clockOffsetNs: offset,
      bootTimeUnixMs: Math.round(offset / 1e6),
      startedAtUnixMs: Date.now(),
      probes: [...probes],
      cgroupRoot: root ?? '',
    },
    root,
  );
  if (root === null) logger.warn('no cgroup2 mount: the recording will hold no cgroup paths');
  logger.info({ out: args.out, probes, durationMs: args.durationMs }, 'recording');

  let stopTimer: NodeJS.Timeout | undefined;
  const stop = (): void => tracer.close();
  if (args.durationMs !== undefined) stopTimer = setTimeout(stop, args.durationMs);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (;;) {
      const batch = await tracer.next();
      if (batch === null) break;
      writer.writeBatch(batch);
    }
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'recording stopped');
  } finally {
    if (stopTimer) clearTimeout(stopTimer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const losses = tracer.losses();
  const kernelLost: Record<string, number> = {};
  for (const k of NAMED_KINDS) kernelLost[eventName(k)] = losses[k] ?? 0;
  const trailer = writer.close(kernelLost);
  const s = writer.stats;
  const lost = Object.values(kernelLost).reduce((a, b) => a + b, 0);
  process.stderr.write(
    `podtrace record: ${trailer?.records ?? s.records} records in ${s.batches} batches to ${args.out}, ` +
      `${s.cgroupsSeen - s.cgroupsUnresolved}/${s.cgroupsSeen} cgroups resolved, ${lost} lost in the kernel\n`,
  );
  return 0;
}
