import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { BoundedMap, Reservoir, formatNs, percentile, topN } from '../stats';

const MAX_KEYS = 1000;
const MAX_SAMPLES = 4096;
/** Slow I/O on one path is a finding from this many operations. */
const SLOW_FINDING_COUNT = 10;
/** Failed opens of one path are a finding from this many. */
const FAILED_OPEN_FINDING = 10;

export interface SlowIoRow {
  path: string;
  operation: string;
  count: number;
  bytes: number;
  p50Ns: number | null;
  p99Ns: number | null;
  maxNs: number;
}

export interface FailedOpenRow {
  path: string;
  error: string;
  count: number;
}

export interface FileBody {
  slowTotal: number;
  slow: SlowIoRow[];
  failedOpens: FailedOpenRow[];
}

interface Acc {
  count: number;
  bytes: number;
  maxNs: number;
  latency: Reservoir;
}

/** Slow file I/O (reads, writes, fsyncs over the kernel's threshold) by path, and failed opens. */
export class FileSection implements SectionCollector {
  private readonly slow = new BoundedMap<Acc>(MAX_KEYS, () => ({
    count: 0,
    bytes: 0,
    maxNs: 0,
    latency: new Reservoir(MAX_SAMPLES),
  }));
  private readonly opens = new BoundedMap<{ count: number }>(MAX_KEYS, () => ({ count: 0 }));
  private slowTotal = 0;

  observe(e: PodtraceEvent): void {
    if (e.kind === EventKind.FileOpen) {
      if (e.error !== null) this.opens.get(`${e.path}\u0000${e.error}`).count++;
      return;
    }
    if (e.kind !== EventKind.FileRead && e.kind !== EventKind.FileWrite && e.kind !== EventKind.FileFsync)
      return;
    this.slowTotal++;
    const a = this.slow.get(`${e.path}\u0000${e.operation}`);
    a.count++;
    a.bytes += e.bytes;
    a.maxNs = Math.max(a.maxNs, e.durationNs);
    a.latency.add(e.durationNs);
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const slow = topN(
      [...this.slow.entries()].map(([k, a]) => {
        const [path = k, operation = ''] = k.split('\u0000');
        const s = a.latency.sorted();
        return {
          path,
          operation,
          count: a.count,
          bytes: a.bytes,
          p50Ns: percentile(s, 50),
          p99Ns: percentile(s, 99),
          maxNs: a.maxNs,
        };
      }),
      ctx.topN,
      (r) => `${r.path} ${r.operation}`,
    );
    const failedOpens = topN(
      [...this.opens.entries()].map(([k, r]) => {
        const [path = k, error = ''] = k.split('\u0000');
        return { path, error, count: r.count };
      }),
      ctx.topN,
      (r) => `${r.path} ${r.error}`,
    );
    const body: FileBody = { slowTotal: this.slowTotal, slow, failedOpens };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as FileBody;
    const out: Finding[] = [];
    for (const r of b.slow)
      if (r.count >= SLOW_FINDING_COUNT)
        out.push({
          severity: 'warning',
          section: 'file',
          message: `${r.count} slow ${r.operation} calls on ${r.path} (p99 ${formatNs(r.p99Ns)}, max ${formatNs(r.maxNs)})`,
          numbers: { count: r.count, p99Ns: r.p99Ns ?? 0, maxNs: r.maxNs },
        });
    for (const r of b.failedOpens)
      if (r.count >= FAILED_OPEN_FINDING)
        out.push({
          severity: 'notice',
          section: 'file',
          message: `${r.count} opens of ${r.path} failed with ${r.error}`,
          numbers: { count: r.count },
        });
    return out;
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as FileBody;
    const lines = [`  slow I/O by path (${b.slowTotal} operations)   count      p50      p99      max`];
    if (b.slow.length === 0) lines.push('    none');
    for (const r of b.slow)
      lines.push(
        `    ${`${r.operation} ${r.path}`.padEnd(40)} ${String(r.count).padStart(6)} ${formatNs(r.p50Ns).padStart(8)} ${formatNs(r.p99Ns).padStart(8)} ${formatNs(r.maxNs).padStart(8)}`,
      );
    lines.push('  failed opens by path');
    if (b.failedOpens.length === 0) lines.push('    none');
    for (const r of b.failedOpens)
      lines.push(`    ${String(r.count).padStart(6)}  ${r.error.padEnd(8)} ${r.path}`);
    return lines;
  }
}
