import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';

const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';
const BPFTOOL = ['/usr/sbin/bpftool', '/usr/bin/bpftool'];

/** Cumulative in-kernel run time of one BPF program (counted while kernel.bpf_stats_enabled = 1). */
export interface ProgStat {
  id: number;
  runTimeNs: number;
  runCnt: number;
}

/**
 * Turns on the kernel's per-program run-time accounting; returns a function that puts the previous
 * setting back, or null when it cannot be changed (not root). While on, every BPF program on the
 * machine pays two clock reads per run (tens of ns).
 */
export function enableBpfStats(): (() => void) | null {
  try {
    const before = readFileSync(STATS_SYSCTL, 'utf8').trim();
    writeFileSync(STATS_SYSCTL, '1');
    return () => writeFileSync(STATS_SYSCTL, before);
  } catch {
    return null;
  }
}

/** The BPF programs process `pid` holds a file descriptor of, with their counters (/proc/PID/fdinfo). */
export function progStatsOf(pid: number): Map<number, ProgStat> {
  const out = new Map<number, ProgStat>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const field = (name: string): number | undefined => {
      const m = new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(info);
      return m ? Number(m[1]) : undefined;
    };
    // Program fds carry the counters; link fds name a prog_id too but without them.
    const id = field('prog_id');
    const runTimeNs = field('run_time_ns');
    const runCnt = field('run_cnt');
    if (id === undefined || runTimeNs === undefined || runCnt === undefined) continue;
    out.set(id, { id, runTimeNs, runCnt });
  }
  return out;
}

/** What ran between two snapshots of the same process: per program, time and runs. */
export function progStatsDelta(before: Map<number, ProgStat>, after: Map<number, ProgStat>): ProgStat[] {
  const out: ProgStat[] = [];
  for (const a of after.values()) {
    const b = before.get(a.id);
    const d = { id: a.id, runTimeNs: a.runTimeNs - (b?.runTimeNs ?? 0), runCnt: a.runCnt - (b?.runCnt ?? 0) };
    if (d.runCnt > 0) out.push(d);
  }
  return out;
}

/** Program names by id from bpftool when it is installed (else `prog <id>`). */
export function progNames(ids: readonly number[]): Map<number, string> {
  const names = new Map<number, string>(ids.map((id) => [id, `prog ${id}`]));
  const tool = BPFTOOL.find((p) => existsSync(p));
  if (!tool || ids.length === 0) return names;
  for (const id of ids) {
    try {
      const p = JSON.parse(
        execFileSync(tool, ['-j', 'prog', 'show', 'id', String(id)], { encoding: 'utf8' }),
      ) as {
        name?: string;
      };
      if (p.name) names.set(id, p.name);
    } catch {
      // names are a nicety
    }
  }
  return names;
}
