import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { BoundedMap, Reservoir, formatNs, percent, percentile, topN } from '../stats';

/** Distinct destinations / peers / clients tracked; the rest share `(other)`. */
const MAX_KEYS = 1000;
/** Latency samples kept per destination for percentiles. */
const MAX_SAMPLES = 4096;
/** A destination's failures are a finding from this share of its connects. */
const FAILURE_SHARE_FINDING = 5;
/** Slow connects are a finding when p99 reaches this (ns), over at least MIN_CONNECTS_FOR_P99 connects. */
const SLOW_P99_NS = 200e6;
const MIN_CONNECTS_FOR_P99 = 5;
/** Retransmits to one peer become a finding from this many. */
const RETRANSMIT_FINDING = 10;

export interface ConnectRow {
  destination: string;
  count: number;
  failed: number;
  /** Handshake latency of successful connects, ns; null without one. */
  p50Ns: number | null;
  p99Ns: number | null;
}

export interface FailureRow {
  destination: string;
  attempts: number;
  count: number;
  refused: number;
  timedOut: number;
  unreachable: number;
  other: Record<string, number>;
}

export interface PeerRow {
  peer: string;
  count: number;
}

export interface ClientRow {
  client: string;
  localPort: number;
  count: number;
}

export interface TcpBody {
  connectsTotal: number;
  connects: ConnectRow[];
  failures: FailureRow[];
  retransmits: PeerRow[];
  accepts: ClientRow[];
}

interface Dest {
  count: number;
  failed: number;
  latency: Reservoir;
  errors: Record<string, number>;
}

const endpoint = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

const VERB: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'were refused',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'found the host unreachable',
  ENETUNREACH: 'found the network unreachable',
};

/** TCP: connects by destination with latency percentiles, failures by destination, retransmits by peer, accepts by client. */
export class TcpSection implements SectionCollector {
  private readonly dests = new BoundedMap<Dest>(MAX_KEYS, () => ({
    count: 0,
    failed: 0,
    latency: new Reservoir(MAX_SAMPLES),
    errors: {},
  }));
  private readonly retrans = new BoundedMap<{ count: number }>(MAX_KEYS, () => ({ count: 0 }));
  private readonly clients = new BoundedMap<{ count: number; localPort: number }>(MAX_KEYS, () => ({
    count: 0,
    localPort: 0,
  }));
  private connectsTotal = 0;

  observe(e: PodtraceEvent): void {
    switch (e.kind) {
      case EventKind.TcpConnect: {
        const d = this.dests.get(endpoint(e.remoteAddr, e.remotePort));
        d.count++;
        this.connectsTotal++;
        if (e.error === null) d.latency.add(e.latencyNs);
        else {
          d.failed++;
          d.errors[e.error] = (d.errors[e.error] ?? 0) + 1;
        }
        return;
      }
      case EventKind.TcpRetransmit:
        this.retrans.get(endpoint(e.remoteAddr, e.remotePort)).count++;
        return;
      case EventKind.TcpAccept: {
        const c = this.clients.get(`${e.remoteAddr} ${e.localPort}`);
        c.count++;
        c.localPort = e.localPort;
        return;
      }
      default:
        return;
    }
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const all = [...this.dests.entries()];
    const connects = topN(
      all.map(([destination, d]) => {
        const s = d.latency.sorted();
        return {
          destination,
          count: d.count,
          failed: d.failed,
          p50Ns: percentile(s, 50),
          p99Ns: percentile(s, 99),
        };
      }),
      ctx.topN,
      (r) => r.destination,
    );
    const failures = topN(
      all
        .filter(([, d]) => d.failed > 0)
        .map(([destination, d]) => {
          const { ECONNREFUSED = 0, ETIMEDOUT = 0, EHOSTUNREACH = 0, ENETUNREACH = 0, ...other } = d.errors;
          return {
            destination,
            attempts: d.count,
            count: d.failed,
            refused: ECONNREFUSED,
            timedOut: ETIMEDOUT,
            unreachable: EHOSTUNREACH + ENETUNREACH,
            other,
          };
        }),
      ctx.topN,
      (r) => r.destination,
    );
    const retransmits = topN(
      [...this.retrans.entries()].map(([peer, r]) => ({ peer, count: r.count })),
      ctx.topN,
      (r) => r.peer,
    );
    const accepts = topN(
      [...this.clients.entries()].map(([k, c]) => ({
        client: k.split(' ')[0] as string,
        localPort: c.localPort,
        count: c.count,
      })),
      ctx.topN,
      (r) => `${r.client} ${r.localPort}`,
    );
    const body: TcpBody = { connectsTotal: this.connectsTotal, connects, failures, retransmits, accepts };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as TcpBody;
    const out: Finding[] = [];
    for (const f of b.failures) {
      const share = percent(f.count, f.attempts);
      if (share < FAILURE_SHARE_FINDING) continue;
      const all: [string, number][] = [
        ['ECONNREFUSED', f.refused],
        ['ETIMEDOUT', f.timedOut],
        ['EHOSTUNREACH', f.unreachable],
        ...Object.entries(f.other),
      ];
      const kinds = all.filter(([, n]) => n > 0);
      const only = kinds.length === 1 ? (kinds[0] as [string, number]) : null;
      const how =
        only !== null
          ? (VERB[only[0]] ?? `failed with ${only[0]}`)
          : `failed (${kinds.map(([k, n]) => `${n} ${k}`).join(', ')})`;
      out.push({
        severity: share >= 50 ? 'critical' : 'warning',
        section: 'tcp',
        message: `${share} % of connects to ${f.destination} ${how} (${f.count} of ${f.attempts})`,
        numbers: { percent: share, failed: f.count, attempts: f.attempts, ...Object.fromEntries(kinds) },
      });
    }
    for (const c of b.connects) {
      const ok = c.count - c.failed;
      if (c.p99Ns !== null && c.p99Ns >= SLOW_P99_NS && ok >= MIN_CONNECTS_FOR_P99)
        out.push({
          severity: 'warning',
          section: 'tcp',
          message: `connects to ${c.destination} are slow: p99 ${formatNs(c.p99Ns)} (p50 ${formatNs(c.p50Ns)}, ${ok} connects)`,
          numbers: { p50Ns: c.p50Ns ?? 0, p99Ns: c.p99Ns, connects: ok },
        });
    }
    for (const r of b.retransmits)
      if (r.count >= RETRANSMIT_FINDING)
        out.push({
          severity: 'warning',
          section: 'tcp',
          message: `${r.count} TCP retransmits to ${r.peer}`,
          numbers: { retransmits: r.count },
        });
    return out;
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as TcpBody;
    const lines: string[] = [];
    lines.push(`  connects by destination (${b.connectsTotal} connects)   count  failed      p50      p99`);
    if (b.connects.length === 0) lines.push('    none');
    for (const c of b.connects)
      lines.push(
        `    ${c.destination.padEnd(40)} ${String(c.count).padStart(6)} ${String(c.failed).padStart(7)} ${formatNs(c.p50Ns).padStart(8)} ${formatNs(c.p99Ns).padStart(8)}`,
      );
    lines.push('  refused / timed out / unreachable by destination');
    if (b.failures.length === 0) lines.push('    none');
    for (const f of b.failures) {
      const other = Object.entries(f.other)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      lines.push(
        `    ${f.destination.padEnd(40)} refused ${f.refused}, timed out ${f.timedOut}, unreachable ${f.unreachable}${other !== '' ? `, ${other}` : ''} (of ${f.attempts})`,
      );
    }
    lines.push('  retransmits by peer');
    if (b.retransmits.length === 0) lines.push('    none');
    for (const r of b.retransmits) lines.push(`    ${r.peer.padEnd(40)} ${String(r.count).padStart(6)}`);
    lines.push('  accepted connections by client');
    if (b.accepts.length === 0) lines.push('    none');
    for (const a of b.accepts)
      lines.push(`    ${`${a.client} → :${a.localPort}`.padEnd(40)} ${String(a.count).padStart(6)}`);
    return lines;
  }
}
