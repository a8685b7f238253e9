import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { BoundedMap, topN } from '../stats';

const MAX_KEYS = 1000;
/** Signals that end a process unless handled: a finding when the pod's processes receive them. */
const FATAL = new Set(['SIGKILL', 'SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGILL', 'SIGFPE']);

export interface SignalRow {
  signal: string;
  target: string;
  /** Sender comm, `kernel` for SI_KERNEL. */
  sender: string;
  count: number;
}

export interface SignalBody {
  total: number;
  signals: SignalRow[];
}

/** Signals received by the pod's processes, by signal, target command and sender. */
export class SignalSection implements SectionCollector {
  private readonly rows = new BoundedMap<{ count: number }>(MAX_KEYS, () => ({ count: 0 }));
  private total = 0;

  observe(e: PodtraceEvent): void {
    if (e.kind !== EventKind.ProcessSignal) return;
    this.total++;
    const sender = e.code === 'SI_KERNEL' ? 'kernel' : e.comm;
    this.rows.get(`${e.signalName}\u0000${e.targetComm}\u0000${sender}`).count++;
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const signals = topN(
      [...this.rows.entries()].map(([k, r]) => {
        const [signal = k, target = '', sender = ''] = k.split('\u0000');
        return { signal, target, sender, count: r.count };
      }),
      ctx.topN,
      (r) => `${r.signal} ${r.target} ${r.sender}`,
    );
    const body: SignalBody = { total: this.total, signals };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as SignalBody;
    return b.signals
      .filter((r) => FATAL.has(r.signal))
      .map((r) => ({
        severity: 'warning' as const,
        section: 'signals',
        message: `${r.signal} sent to \`${r.target}\` ${r.count === 1 ? 'once' : `${r.count} times`} by ${r.sender === 'kernel' ? 'the kernel' : `\`${r.sender}\``}`,
        numbers: { count: r.count },
      }));
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as SignalBody;
    const lines = [`  signals received, by signal, target and sender (${b.total} signals)`];
    if (b.signals.length === 0) lines.push('    none');
    for (const r of b.signals)
      lines.push(
        `    ${String(r.count).padStart(6)}  ${r.signal.padEnd(10)} → ${r.target.padEnd(16)} from ${r.sender}`,
      );
    return lines;
  }
}
