import { basename } from 'node:path';
import type { PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';
import type { Finding } from '../report-model';
import type { SectionCollector, SectionContext } from '../section';
import { signalName } from '../signal-names';
import { BoundedMap, topN } from '../stats';

/** Distinct commands tracked; the rest are counted under `(other)`. */
const MAX_COMMANDS = 1000;
/** OOM kills listed at most. */
const MAX_OOMS = 100;

export interface ExecRow {
  command: string;
  count: number;
  /** One full path it was exec'd from. */
  path: string;
}

export interface ExitRow {
  command: string;
  /** Exits of this command in the window. */
  exits: number;
  /** Non-zero exits and deaths by signal. */
  count: number;
  codes: Record<string, number>;
  signals: Record<string, number>;
}

export interface OomRow {
  time: string;
  pid: number;
  command: string;
  pages: number;
  rssPages: number;
}

export interface ProcessBody {
  execs: ExecRow[];
  execsTotal: number;
  exitsTotal: number;
  failures: ExitRow[];
  /** false when the `oom` probe group did not run. */
  oomAvailable: boolean;
  oomKills: OomRow[];
}

/** `failed` exits are a finding from this share of a command's exits (any count when all fail). */
const EXIT_FINDING_MIN = 1;

/**
 * What a person calls the command: argv[0]'s base name (busybox and multi-call binaries re-exec
 * themselves as /proc/self/exe, so the file name says little), else the file's, else comm.
 */
export function commandOf(args: readonly string[], filename: string, comm: string): string {
  const a0 = basename(args[0] ?? '').replace(/^-/, '');
  if (a0 !== '') return a0;
  return filename !== '' ? basename(filename) : comm;
}

const iso = (ns: number): string => new Date(ns / 1e6).toISOString();
const clock = (isoTime: string): string => isoTime.slice(11, 19);

function tally(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
}

/** Processes: execs by command, non-zero exits and signals by command, OOM kills. */
export class ProcessSection implements SectionCollector {
  private readonly execs = new BoundedMap<{ count: number; path: string }>(MAX_COMMANDS, () => ({
    count: 0,
    path: '',
  }));
  private readonly exits = new BoundedMap<{
    exits: number;
    count: number;
    codes: Record<string, number>;
    signals: Record<string, number>;
  }>(MAX_COMMANDS, () => ({ exits: 0, count: 0, codes: {}, signals: {} }));
  private readonly ooms: OomRow[] = [];
  private execsTotal = 0;
  private exitsTotal = 0;

  observe(e: PodtraceEvent): void {
    switch (e.kind) {
      case EventKind.ProcessExec: {
        const cmd = commandOf(e.args, e.filename, e.comm);
        const row = this.execs.get(cmd);
        row.count++;
        if (row.path === '') row.path = e.filename;
        this.execsTotal++;
        return;
      }
      case EventKind.ProcessExit: {
        const row = this.exits.get(e.comm);
        row.exits++;
        this.exitsTotal++;
        if (e.signal !== null) {
          const s = signalName(e.signal);
          row.signals[s] = (row.signals[s] ?? 0) + 1;
          row.count++;
        } else if (e.exitCode !== null && e.exitCode !== 0) {
          const c = `exit ${e.exitCode}`;
          row.codes[c] = (row.codes[c] ?? 0) + 1;
          row.count++;
        }
        return;
      }
      case EventKind.OomKill:
        if (this.ooms.length < MAX_OOMS)
          this.ooms.push({
            time: iso(e.timeUnixNs),
            pid: e.victimPid,
            command: e.victimComm,
            pages: e.pages,
            rssPages: e.rssPages,
          });
        return;
      default:
        return;
    }
  }

  body(ctx: SectionContext): Record<string, unknown> {
    const execs = topN(
      [...this.execs.entries()].map(([command, r]) => ({ command, count: r.count, path: r.path })),
      ctx.topN,
      (r) => r.command,
    );
    const failures = topN(
      [...this.exits.entries()].filter(([, r]) => r.count > 0).map(([command, r]) => ({ command, ...r })),
      ctx.topN,
      (r) => r.command,
    );
    const body: ProcessBody = {
      execs,
      execsTotal: this.execsTotal,
      exitsTotal: this.exitsTotal,
      failures,
      oomAvailable: ctx.enabledGroups.has('oom'),
      oomKills: this.ooms,
    };
    return body as unknown as Record<string, unknown>;
  }

  findings(raw: Record<string, unknown>): Finding[] {
    const b = raw as unknown as ProcessBody;
    const out: Finding[] = [];
    for (const o of b.oomKills)
      out.push({
        severity: 'critical',
        section: 'processes',
        message: `OOM kill of \`${o.command}\` (pid ${o.pid}) at ${clock(o.time)} UTC (${o.rssPages} resident pages)`,
        numbers: { pid: o.pid, time: o.time, pages: o.pages, rssPages: o.rssPages },
      });
    for (const f of b.failures) {
      const signals = Object.values(f.signals).reduce((a, n) => a + n, 0);
      if (signals > 0)
        out.push({
          severity: 'warning',
          section: 'processes',
          message: `\`${f.command}\` was killed by a signal ${signals} of ${f.exits} times (${tally(f.signals)})`,
          numbers: { killed: signals, exits: f.exits, ...f.signals },
        });
      const codes = f.count - signals;
      if (codes >= EXIT_FINDING_MIN)
        out.push({
          severity: 'warning',
          section: 'processes',
          message: `\`${f.command}\` exited non-zero ${codes} of ${f.exits} times (${tally(f.codes)})`,
          numbers: { failed: codes, exits: f.exits, ...f.codes },
        });
    }
    return out;
  }

  render(raw: Record<string, unknown>): string[] {
    const b = raw as unknown as ProcessBody;
    const lines: string[] = [];
    lines.push(`  execs by command (${b.execsTotal} execs)`);
    if (b.execs.length === 0) lines.push('    none');
    for (const r of b.execs)
      lines.push(`    ${String(r.count).padStart(6)}  ${r.command.padEnd(20)} ${r.path}`);
    lines.push(`  non-zero exits and signals by command (${b.exitsTotal} exits)`);
    if (b.failures.length === 0) lines.push('    none');
    for (const r of b.failures)
      lines.push(
        `    ${String(r.count).padStart(6)}  ${r.command.padEnd(20)} of ${r.exits} exits: ${tally({ ...r.codes, ...r.signals })}`,
      );
    lines.push('  OOM kills');
    if (!b.oomAvailable) lines.push('    probe group "oom" not enabled');
    else if (b.oomKills.length === 0) lines.push('    none');
    for (const o of b.oomKills)
      lines.push(
        `    ${clock(o.time)}  ${o.command} (pid ${o.pid}) ${o.pages} pages, ${o.rssPages} resident`,
      );
    return lines;
  }
}
