import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { NODE, runJson, workerPath } from '../lib/proc';
import { fmtPct, median } from '../lib/stats';
import type { BenchContext, Row, ScenarioResult } from './types';

const DNS_PORT = 45353;
interface GroupCase {
  /** Row label (the group, and the setting when a group is measured more than once). */
  name: string;
  group: string;
  workload: string;
  unit: string;
  file?: { minLatencyUs: number };
}

const GROUPS: readonly GroupCase[] = [
  { name: 'signal', group: 'signal', workload: 'signal', unit: 'kill(SIGUSR2) calls/s' },
  { name: 'dns', group: 'dns', workload: 'dns', unit: 'UDP DNS queries/s (one in flight, loopback)' },
  {
    name: 'dns (tcp)',
    group: 'dns',
    workload: 'dns-tcp',
    unit: 'TCP DNS queries/s (one connection, one in flight, loopback)',
  },
  // Not DNS: every TCP segment passes the dns programs, which read its header.
  {
    name: 'dns (tcp-bulk)',
    group: 'dns',
    workload: 'tcp-bulk',
    unit: '64 KiB writes/s on a non-DNS loopback TCP stream',
  },
  { name: 'sched', group: 'sched', workload: 'sched', unit: 'thread wake-ups/s (2 context switches each)' },
  // The default threshold: every read is timed in the kernel, none is slow enough for a record.
  { name: 'file', group: 'file', workload: 'file', unit: '64-byte pread64 calls/s (page cache)' },
  // minLatencyUs 0: every read also resolves its path and makes a ring-buffer record.
  {
    name: 'file 0us',
    group: 'file',
    workload: 'file',
    unit: '64-byte pread64 calls/s, each a record',
    file: { minLatencyUs: 0 },
  },
];

/** A source with only `group` attached, drained and discarded (what the group costs, and nothing else). */
async function attach(group: string, file: { minLatencyUs: number } | undefined): Promise<EbpfSource> {
  const config = validateConfig({
    source: { ebpf: { probes: [group], dns: { ports: [DNS_PORT] }, ...(file ? { file } : {}) } },
  }).source.ebpf;
  const source = new EbpfSource(config, { logger: silentLogger(), metrics: new Metrics() });
  source.batches$.subscribe(() => undefined);
  await source.start();
  if (!source.hooks.some((h) => h.group === group && h.attached))
    throw new Error(`probe group ${group} did not attach: ${JSON.stringify(source.hooks)}`);
  return source;
}

/**
 * Scenario 6, the cost of each new probe group on a workload that stresses it: the workload's
 * operations/s with the group off and on (side by side, alternating order per rep). The bench
 * process runs the eBPF source in both cases (off: only `oom`, which the workloads never trigger).
 */
export async function groupsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const ms = ctx.smoke ? 500 : 3000;
  const rows: Row[] = [];
  const data: Record<string, { off: number[]; on: number[]; slowdown: number }> = {};
  for (const g of GROUPS) {
    const off: number[] = [];
    const on: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const attached of rep % 2 === 0 ? [false, true] : [true, false]) {
        // Off is the oom group alone (no hook on the workload's path): the same drain thread and
        // process run in both cases, so CPU idle states and wake-up paths are alike.
        const source = await attach(attached ? g.group : 'oom', g.file);
        try {
          const r = await runJson<{ opsPerSec: number }>(
            NODE,
            [workerPath('group-workload'), g.workload, String(ms), String(DNS_PORT)],
            `${g.workload} workload`,
          );
          (attached ? on : off).push(r.opsPerSec);
          ctx.log(`  groups ${g.name} ${attached ? 'on' : 'off'}: ${r.opsPerSec.toFixed(0)} ops/s`);
        } finally {
          await source.shutdown();
        }
      }
    }
    const slowdown = 1 - median(on) / median(off);
    data[g.name] = { off, on, slowdown };
    rows.push(
      {
        scenario: '6 groups',
        case: `${g.name} off`,
        value: `${(median(off) / 1000).toFixed(1)} k ops/s`,
        detail: g.unit,
      },
      {
        scenario: '6 groups',
        case: `${g.name} on`,
        value: `${(median(on) / 1000).toFixed(1)} k ops/s`,
        detail: `slowdown ${fmtPct(slowdown)} vs off`,
      },
    );
  }
  return { name: 'groups', rows, data: { ms, groups: data } };
}
