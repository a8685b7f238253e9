import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { BoundedMap, Reservoir, formatNs, percent, percentile, topN } from '../stats';

const MAX_KEYS = 1000;
const MAX_SAMPLES = 4096;
/** A name's failures are a finding from this share of its queries. */
const FAILURE_SHARE_FINDING = 5;
const SLOW_P99_NS = 100e6;

export interface DnsRow {
  name: string;
  type: string;
  count: number;
  failed: number;
  errors: Record<string, number>;
  p50Ns: number | null;
  p99Ns: number | null;
}

export interface DnsBody {
  total: number;
  servers: string[];
  queries: DnsRow[];
}

interface Acc {
  count: number;
  failed: number;
  errors: Record<string, number>;
  latency: Reservoir;
}

/** DNS: queries by name and type with latency percentiles and failures (NXDOMAIN, SERVFAIL, timeout). */
export class DnsSection implements SectionCollector {
  private readonly names = new BoundedMap<Acc>(MAX_KEYS, () => ({
    count: 0,
    failed: 0,
    errors: {},
    latency: new Reservoir(MAX_SAMPLES),
  }));
  private readonly servers = new Set<string>();
  private total = 0;

  observe(e: PodtraceEvent): void {
    if (e.kind !== EventKind.DnsQuery) return;
    this.total++;
    if (this.servers.size < 16) this.servers.add(`${e.serverAddr}:${e.serverPort}`);
    const a = this.names.get(`${e.questionName || '(unparsed)'} ${e.queryType}`);
    a.count++;
    if (e.error !== null) {
      a.failed++;
      a.errors[e.error] = (a.errors[e.error] ?? 0) + 1;
    } else a.latency.add(e.latencyNs);
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const queries = topN(
      [...this.names.entries()].map(([k, a]) => {
        const sp = k.lastIndexOf(' ');
        const s = a.latency.sorted();
        return {
          name: k.slice(0, sp),
          type: k.slice(sp + 1),
          count: a.count,
          failed: a.failed,
          errors: a.errors,
          p50Ns: percentile(s, 50),
          p99Ns: percentile(s, 99),
        };
      }),
      ctx.topN,
      (r) => `${r.name} ${r.type}`,
    );
    const body: DnsBody = { total: this.total, servers: [...this.servers], queries };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as DnsBody;
    const out: Finding[] = [];
    for (const q of b.queries) {
      const share = percent(q.failed, q.count);
      if (q.failed > 0 && share >= FAILURE_SHARE_FINDING) {
        const how = Object.entries(q.errors)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ');
        out.push({
          severity: share >= 50 ? 'critical' : 'warning',
          section: 'dns',
          message: `${share} % of DNS ${q.type} queries for ${q.name} failed (${how}; ${q.failed} of ${q.count})`,
          numbers: { percent: share, failed: q.failed, queries: q.count, ...q.errors },
        });
      }
      if (q.p99Ns !== null && q.p99Ns >= SLOW_P99_NS && q.count - q.failed >= 5)
        out.push({
          severity: 'warning',
          section: 'dns',
          message: `DNS ${q.type} ${q.name} is slow: p99 ${formatNs(q.p99Ns)} (p50 ${formatNs(q.p50Ns)})`,
          numbers: { p50Ns: q.p50Ns ?? 0, p99Ns: q.p99Ns },
        });
    }
    return out;
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as DnsBody;
    const lines = [
      `  queries by name (${b.total} queries; servers ${b.servers.join(', ') || 'none'})   count  failed      p50      p99`,
    ];
    if (b.queries.length === 0) lines.push('    none');
    for (const q of b.queries) {
      const errs = Object.entries(q.errors)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      lines.push(
        `    ${`${q.name} ${q.type}`.padEnd(40)} ${String(q.count).padStart(6)} ${String(q.failed).padStart(7)} ${formatNs(q.p50Ns).padStart(8)} ${formatNs(q.p99Ns).padStart(8)}${errs !== '' ? `  ${errs}` : ''}`,
      );
    }
    return lines;
  }
}
