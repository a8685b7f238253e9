import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { BoundedMap, formatNs, topN } from '../stats';

const MAX_KEYS = 256;
/** A container waiting this long for a CPU at p99 in some interval is a finding. */
const SLOW_P99_NS = 10e6;

export interface RunqueueRow {
  container: string;
  intervals: number;
  /** Wakeups measured. */
  count: number;
  /** The worst interval's p99 and the overall max, ns. */
  worstP99Ns: number;
  maxNs: number;
  /** Mean of the interval means, weighted by wakeups, ns. */
  meanNs: number;
}

export interface RunqueueBody {
  containers: RunqueueRow[];
}

/**
 * Run-queue latency (wakeup → on CPU) per container: the kernel aggregates per interval, so this
 * reports the worst interval's p99 and the max, not a percentile over the window.
 */
export class RunqueueSection implements SectionCollector {
  private readonly rows = new BoundedMap<{
    intervals: number;
    count: number;
    worstP99Ns: number;
    maxNs: number;
    weighted: number;
  }>(MAX_KEYS, () => ({ intervals: 0, count: 0, worstP99Ns: 0, maxNs: 0, weighted: 0 }));

  observe(e: PodtraceEvent): void {
    if (e.kind !== EventKind.SchedRunqueue) return;
    const r = this.rows.get(e.meta?.containerName ?? e.comm);
    r.intervals++;
    r.count += e.count;
    r.worstP99Ns = Math.max(r.worstP99Ns, e.p99Ns);
    r.maxNs = Math.max(r.maxNs, e.maxNs);
    r.weighted += e.meanNs * e.count;
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const containers = topN(
      [...this.rows.entries()].map(([container, r]) => ({
        container,
        intervals: r.intervals,
        count: r.count,
        worstP99Ns: r.worstP99Ns,
        maxNs: r.maxNs,
        meanNs: r.count === 0 ? 0 : Math.round(r.weighted / r.count),
      })),
      ctx.topN,
      (r) => r.container,
    );
    const body: RunqueueBody = { containers };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as RunqueueBody;
    return b.containers
      .filter((r) => r.worstP99Ns >= SLOW_P99_NS)
      .map((r) => ({
        severity: 'warning' as const,
        section: 'runqueue',
        message: `container ${r.container} waited for a CPU up to ${formatNs(r.worstP99Ns)} at p99 (max ${formatNs(r.maxNs)})`,
        numbers: { worstP99Ns: r.worstP99Ns, maxNs: r.maxNs, wakeups: r.count },
      }));
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as RunqueueBody;
    const lines = ['  run-queue latency by container   wakeups     mean  worst p99      max'];
    if (b.containers.length === 0) lines.push('    none');
    for (const r of b.containers)
      lines.push(
        `    ${r.container.padEnd(30)} ${String(r.count).padStart(9)} ${formatNs(r.meanNs).padStart(8)} ${formatNs(r.worstP99Ns).padStart(10)} ${formatNs(r.maxNs).padStart(8)}`,
      );
    return lines;
  }
}
