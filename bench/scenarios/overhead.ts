import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, ROOT, runJson, start, waitForOutput } from '../lib/proc';
import type { Child } from '../lib/proc';
import { fmtPct, median } from '../lib/stats';
import type { BenchContext, ScenarioResult } from './types';

export const BPFTRACE = '/usr/bin/bpftrace';

/** The tracepoints podtrace's default probe groups use, one printf per event (as a user would write it). */
function bpftraceScript(marker: string): string {
  return `BEGIN { system("touch ${marker}"); }
tracepoint:sched:sched_process_exec { printf("exec %d %d %s %s\\n", pid, tid, comm, str(args->filename)); }
tracepoint:sched:sched_process_exit /pid == tid/ { printf("exit %d %s %d\\n", pid, comm, curtask->exit_code); }
tracepoint:sched:sched_process_fork { printf("fork %d %s %d\\n", args->parent_pid, comm, args->child_pid); }
tracepoint:sock:inet_sock_set_state { printf("tcp %d %s %d %d\\n", pid, comm, args->oldstate, args->newstate); }
tracepoint:oom:mark_victim { printf("oom %d\\n", args->pid); }
`;
}

interface Tracer {
  name: string;
  start: (dir: string) => Promise<Child | null>;
}

async function stop(child: Child | null): Promise<void> {
  if (!child) return;
  child.proc.kill('SIGINT');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 15_000);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Scenario 2, overhead on the traced workload: the generator's vfork+_exit operations/s on CPU 0
 * with nothing attached, with `podtrace run` (all default probe groups, console sink off) and with
 * bpftrace printing every event of the same tracepoints to /dev/null.
 */
export async function overheadScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.smoke ? 1 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-bench-'));
  const config = join(dir, 'podtrace.yaml');
  // Console off; the telemetry endpoint off so no fixed port is taken; everything else as shipped
  // (all probe groups, enrichment on: without a CRI runtime or API server here it degrades).
  writeFileSync(config, 'sinks:\n  console:\n    enabled: false\ntelemetry:\n  enabled: false\n');
  const tracers: Tracer[] = [
    { name: 'none', start: () => Promise.resolve(null) },
    {
      name: 'podtrace',
      start: async () => {
        const c = start(NODE, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'run', '--config', config], {
          cwd: dir,
        });
        await waitForOutput(c, /podtrace running/, 'podtrace run');
        return c;
      },
    },
  ];
  const haveBpftrace = existsSync(BPFTRACE);
  if (haveBpftrace) {
    tracers.push({
      name: 'bpftrace',
      start: async (d) => {
        const marker = join(d, `bpftrace-ready-${Date.now()}`);
        const script = join(d, 'podtrace-equivalent.bt');
        writeFileSync(script, bpftraceScript(marker));
        const c = start(BPFTRACE, ['--unsafe', '-o', '/dev/null', script]);
        const deadline = Date.now() + 30_000;
        while (!existsSync(marker)) {
          if (Date.now() > deadline) throw new Error(`bpftrace did not attach:\n${c.stderr()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return c;
      },
    });
  }
  const ops: Record<string, number[]> = {};
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      const order = rep % 2 === 0 ? tracers : [...tracers].reverse();
      for (const t of order) {
        const child = await t.start(dir);
        try {
          const r = await runJson<{ opsPerSec: number }>(
            ctx.tools.gen,
            ['vfork', String(seconds * 1000), '0', '0'],
            'generator',
          );
          (ops[t.name] ??= []).push(r.opsPerSec);
          ctx.log(`  overhead ${t.name}: ${r.opsPerSec.toFixed(0)} ops/s`);
        } finally {
          await stop(child);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(ops.none ?? []);
  const rows = tracers.map((t) => {
    const m = median(ops[t.name] ?? []);
    return {
      scenario: '2 overhead',
      case: `vfork+_exit ops/s, ${t.name}`,
      value: `${(m / 1000).toFixed(1)} k ops/s`,
      detail:
        t.name === 'none'
          ? '2 events per op (fork + exit), CPU 0'
          : `slowdown ${fmtPct(1 - m / base)} vs none`,
    };
  });
  if (!haveBpftrace)
    rows.push({
      scenario: '2 overhead',
      case: 'bpftrace',
      value: 'n/a',
      detail: `${BPFTRACE} not installed (apt-get install bpftrace)`,
    });
  return {
    name: 'overhead',
    rows,
    data: {
      seconds,
      opsPerSec: ops,
      slowdownPodtrace: 1 - median(ops.podtrace ?? []) / base,
      slowdownBpftrace: haveBpftrace ? 1 - median(ops.bpftrace ?? []) / base : null,
    },
  };
}
