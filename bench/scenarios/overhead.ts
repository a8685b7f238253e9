import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, ROOT, runJson, start, waitForOutput } from '../lib/proc';
import type { Child } from '../lib/proc';
import { fmtPct, median } from '../lib/stats';
import { enableBpfStats, progNames, progStatsDelta, progStatsOf } from '../lib/bpf-prog-stats';
import type { ProgStat } from '../lib/bpf-prog-stats';
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

interface GenResult {
  ops: number;
  opsPerSec: number;
  /** CPU the workload itself used per operation (probe time in its context included). */
  cpuUsPerOp: number;
}

/** In-kernel run time of one tracer's programs, summed over the repetitions. */
interface KernelTime {
  nsPerOp: number[];
  /** By program name (looked up while the tracer still holds the program). */
  byProg: Map<string, { timeNs: number; runs: number; ops: number }>;
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
 * bpftrace printing every event of the same tracepoints to /dev/null. Besides the rate it reports
 * the workload's own CPU per operation and, with kernel.bpf_stats_enabled turned on for the run, the
 * run time of each tracer's programs per operation: both hold under machine load, the rate does not.
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
  const cpu: Record<string, number[]> = {};
  const kernel: Record<string, KernelTime> = {};
  const restoreStats = enableBpfStats();
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      const order = rep % 2 === 0 ? tracers : [...tracers].reverse();
      for (const t of order) {
        const child = await t.start(dir);
        try {
          const pid = child?.proc.pid;
          const before = pid !== undefined ? progStatsOf(pid) : new Map<number, ProgStat>();
          const r = await runJson<GenResult>(
            ctx.tools.gen,
            ['vfork', String(seconds * 1000), '0', '0'],
            'generator',
          );
          (ops[t.name] ??= []).push(r.opsPerSec);
          (cpu[t.name] ??= []).push(r.cpuUsPerOp);
          let kernelNote = '';
          if (pid !== undefined && restoreStats) {
            const k = (kernel[t.name] ??= { nsPerOp: [], byProg: new Map() });
            const delta = progStatsDelta(before, progStatsOf(pid));
            const total = delta.reduce((a, d) => a + d.runTimeNs, 0);
            k.nsPerOp.push(total / r.ops);
            // Summed by name per run first: two programs may share a (15-character) name.
            const names = progNames(delta.map((d) => d.id));
            const run = new Map<string, { timeNs: number; runs: number }>();
            for (const d of delta) {
              const name = names.get(d.id) ?? `prog ${d.id}`;
              const p = run.get(name) ?? { timeNs: 0, runs: 0 };
              run.set(name, { timeNs: p.timeNs + d.runTimeNs, runs: p.runs + d.runCnt });
            }
            for (const [name, d] of run) {
              const p = k.byProg.get(name) ?? { timeNs: 0, runs: 0, ops: 0 };
              k.byProg.set(name, { timeNs: p.timeNs + d.timeNs, runs: p.runs + d.runs, ops: p.ops + r.ops });
            }
            kernelNote = `, in-kernel ${(total / r.ops).toFixed(0)} ns/op`;
          }
          ctx.log(
            `  overhead ${t.name}: ${r.opsPerSec.toFixed(0)} ops/s, workload CPU ${r.cpuUsPerOp.toFixed(2)} µs/op${kernelNote}`,
          );
        } finally {
          await stop(child);
        }
      }
    }
  } finally {
    restoreStats?.();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(ops.none ?? []);
  const baseCpu = median(cpu.none ?? []);
  const rows = tracers.map((t) => {
    const m = median(ops[t.name] ?? []);
    const c = median(cpu[t.name] ?? []);
    return {
      scenario: '2 overhead',
      case: `vfork+_exit ops/s, ${t.name}`,
      value: `${(m / 1000).toFixed(1)} k ops/s`,
      detail:
        t.name === 'none'
          ? `2 events per op (fork + exit), CPU 0; workload CPU ${c.toFixed(2)} µs/op`
          : `slowdown ${fmtPct(1 - m / base)} vs none; workload CPU ${c.toFixed(2)} µs/op (${c >= baseCpu ? '+' : ''}${fmtPct(c / baseCpu - 1)})`,
    };
  });
  const kernelData: Record<
    string,
    { nsPerOp: number; programs: Record<string, { nsPerRun: number; runsPerOp: number }> }
  > = {};
  for (const [name, k] of Object.entries(kernel)) {
    const programs: Record<string, { nsPerRun: number; runsPerOp: number }> = {};
    for (const [prog, p] of k.byProg)
      programs[prog] = { nsPerRun: p.timeNs / p.runs, runsPerOp: p.runs / p.ops };
    kernelData[name] = { nsPerOp: median(k.nsPerOp), programs };
    const busiest = Object.entries(programs)
      .filter(([, p]) => p.runsPerOp >= 0.01)
      .sort((a, b) => b[1].nsPerRun * b[1].runsPerOp - a[1].nsPerRun * a[1].runsPerOp)
      .map(([n, p]) => `${n} ${p.nsPerRun.toFixed(0)} ns × ${p.runsPerOp.toFixed(2)}`);
    rows.push({
      scenario: '2 overhead',
      case: `in-kernel program time per op, ${name}`,
      value: `${median(k.nsPerOp).toFixed(0)} ns/op`,
      detail: `bpf_stats: ${busiest.join(', ') || 'no runs'}`,
    });
  }
  if (!restoreStats)
    rows.push({
      scenario: '2 overhead',
      case: 'in-kernel program time per op',
      value: 'n/a',
      detail: 'kernel.bpf_stats_enabled could not be set (needs root)',
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
      cpuUsPerOp: cpu,
      kernel: kernelData,
      slowdownPodtrace: 1 - median(ops.podtrace ?? []) / base,
      slowdownBpftrace: haveBpftrace ? 1 - median(ops.bpftrace ?? []) / base : null,
    },
  };
}
