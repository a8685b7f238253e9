import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { KafkaMock, kafkaMockMissing } from '../../test/helpers/kafka-mock';
import { freePort, readProcess, scrape, startAgent, stopAgent } from '../lib/agent-process';
import type { AgentCounters, AgentPeers } from '../lib/agent-process';
import { startOtlpReceiver } from '../lib/otlp-receiver-process';
import { ROOT } from '../lib/proc';
import { KAFKA_TOPICS } from '../lib/sink-factories';
import { fmtMb, fmtPct } from '../lib/stats';
import { BENCH_CONTAINERS_PER_POD, BENCH_PODS } from './pipeline';
import type { BenchContext, Row, ScenarioResult } from './types';

/** A sink set of the agent scenario: which exporters the agent's config enables. */
export interface AgentSinkSet {
  label: string;
  otlp: boolean;
  /** Kafka encodings of one Kafka sink, or null for no Kafka sink. */
  kafka: string[] | null;
}

export const AGENT_SINK_SETS: readonly AgentSinkSet[] = [
  { label: 'none', otlp: false, kafka: null },
  { label: 'otlp', otlp: true, kafka: null },
  { label: 'kafka-json', otlp: false, kafka: ['json'] },
  { label: 'kafka-otlp_proto', otlp: false, kafka: ['otlp_proto'] },
  { label: 'all', otlp: true, kafka: ['json', 'otlp_proto'] },
];

export const AGENT_RATES = [10_000, 50_000, 100_000];
/** The overload case: ten times the base rate, far above what all sinks together sustain. */
export const AGENT_OVERLOAD_RATE = 100_000;

/** The NODE_OPTIONS the image sets (deploy/Dockerfile): what the agent runs with as shipped. */
export function imageNodeOptions(): string {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  return /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1] ?? '';
}

/**
 * The allocator settings the image's environment sets next to NODE_OPTIONS (deploy/Dockerfile:
 * `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`), as `--env=` flags of the agent process, so
 * `image` runs the agent as shipped.
 */
export function imageEnvFlags(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const out: string[] = [];
  for (const name of ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']) {
    const value = new RegExp(`^\\s*(?:ENV\\s+)?${name}=(\\d+)`, 'm').exec(dockerfile)?.[1];
    if (value !== undefined) out.push(`--env=${name}=${value}`);
  }
  return out;
}

export interface AgentScenarioOptions {
  rates?: number[];
  sets?: string[];
  /**
   * Node flags variants measured side by side (each a space-separated flag list; '' = node's
   * defaults, which size the heap from the machine's memory). Default: the image's NODE_OPTIONS.
   */
  nodeFlags?: string[];
  overload?: boolean;
}

export interface AgentRun {
  set: string;
  rate: number;
  nodeFlags: string;
  windowSeconds: number;
  /** Events decoded in the measured window. */
  received: number;
  cpuSeconds: number;
  cpuUsPerEvent: number;
  /** Highest VmRSS sampled in the window, and VmHWM (since start) at its end. */
  rssMaxBytes: number;
  hwmBytes: number;
  /** At the window's end: V8 heap total and external memory (Buffers, zlib state). */
  heapTotalBytes: number;
  externalBytes: number;
  /** Events lost in the window: the source's emulated ring (`synthetic`), and per sink stage. */
  ringLost: number;
  droppedByStage: Record<string, number>;
  droppedByReason: Record<string, number>;
  /** Events each sink's destination acknowledged in the window (spans, records). */
  exportedBySink: Record<string, number>;
  /** Share of the events due in the window that some sink did not get or dropped. */
  lossRatio: number;
  /** Events the shutdown deadline cut off (exit summary), and the exit code. */
  undeliveredAtShutdown: number;
  exitCode: number | null;
  /** The machine's 1-minute load average at the window's end (other sessions share the cores). */
  loadAverage: number;
}

/** How a variant is named in the table: the image's flags and node's defaults by name. */
function flagsLabel(flags: string): string {
  if (flags === imageNodeOptions()) return ` [image flags${imageEnvFlags().length > 0 ? ' + env' : ''}]`;
  return flags === '' ? ' [node defaults]' : ` [${flags}]`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v - (a[k] ?? 0) !== 0) out[k] = v - (a[k] ?? 0);
  return out;
}

/**
 * One agent run: its peers (a fresh mock cluster for a Kafka set; the OTLP receiver given, or one of
 * its own), the agent at `rate`, a warm-up, the measured window, SIGTERM.
 */
export async function runAgentCase(
  ctx: BenchContext,
  dir: string,
  set: AgentSinkSet,
  rate: number,
  nodeFlags: string,
  timing: { warmMs: number; windowMs: number },
  sharedOtlpEndpoint?: string,
): Promise<AgentRun> {
  const ownOtlp = set.otlp && sharedOtlpEndpoint === undefined ? await startOtlpReceiver() : null;
  const otlpEndpoint = sharedOtlpEndpoint ?? ownOtlp?.endpoint;
  const mock = set.kafka ? await KafkaMock.start({ topics: KAFKA_TOPICS.map((t) => `${t}:3:3`) }) : null;
  const peers: AgentPeers = {};
  if (set.otlp) peers.otlpEndpoint = otlpEndpoint;
  if (mock && set.kafka) {
    peers.kafkaBrokers = mock.brokers;
    peers.kafkaEncodings = set.kafka;
  }
  try {
    const agent = await startAgent({
      dir,
      rate,
      pods: BENCH_PODS,
      containersPerPod: BENCH_CONTAINERS_PER_POD,
      nodeFlags: [
        ...nodeFlags.split(' ').filter(Boolean),
        ...(nodeFlags === imageNodeOptions() ? imageEnvFlags() : []),
      ],
      telemetryPort: await freePort(),
      ...peers,
    });
    let stopped = false;
    try {
      await sleep(timing.warmMs);
      const p0 = readProcess(agent);
      const c0: AgentCounters = await scrape(agent);
      let rssMax = p0.rssBytes;
      const end = Date.now() + timing.windowMs;
      while (Date.now() < end) {
        await sleep(Math.min(200, Math.max(0, end - Date.now())));
        rssMax = Math.max(rssMax, readProcess(agent).rssBytes);
      }
      const p1 = readProcess(agent);
      const c1 = await scrape(agent);
      rssMax = Math.max(rssMax, p1.rssBytes);
      stopped = true;
      const exit = await stopAgent(agent);
      const received = c1.received - c0.received;
      const dropped = delta(c0.droppedByStage, c1.droppedByStage);
      const ringLost = dropped.synthetic ?? 0;
      const sinkDrops = Object.entries(dropped)
        .filter(([s]) => s !== 'synthetic')
        .map(([, n]) => n);
      const cpuSeconds = p1.cpuSeconds - p0.cpuSeconds;
      const run: AgentRun = {
        set: set.label,
        rate,
        nodeFlags,
        windowSeconds: timing.windowMs / 1000,
        received,
        cpuSeconds,
        cpuUsPerEvent: received > 0 ? (cpuSeconds * 1e6) / received : NaN,
        rssMaxBytes: rssMax,
        hwmBytes: p1.hwmBytes,
        heapTotalBytes: c1.heapTotalBytes,
        externalBytes: c1.externalBytes,
        ringLost,
        droppedByStage: dropped,
        droppedByReason: delta(c0.droppedByReason, c1.droppedByReason),
        exportedBySink: delta(c0.exportedBySink, c1.exportedBySink),
        lossRatio: (ringLost + Math.max(0, ...sinkDrops)) / Math.max(1, received + ringLost),
        undeliveredAtShutdown: exit.undelivered,
        exitCode: exit.code,
        loadAverage: loadavg()[0] ?? NaN,
      };
      ctx.log(
        `  agent ${set.label} @ ${rate / 1000}k${flagsLabel(nodeFlags)}: ${run.cpuUsPerEvent.toFixed(1)} µs/event, RSS max ${fmtMb(rssMax)}, loss ${fmtPct(run.lossRatio)}`,
      );
      return run;
    } finally {
      if (!stopped) await stopAgent(agent);
    }
  } finally {
    await mock?.stop();
    ownOtlp?.close();
  }
}

function lossText(r: AgentRun): string {
  const drops = Object.entries(r.droppedByReason).map(([s, n]) => `${s} ${n}`);
  const parts = drops.length === 0 ? ['0 lost'] : [`lost ${fmtPct(r.lossRatio)} (${drops.join(', ')})`];
  if (r.undeliveredAtShutdown > 0) parts.push(`${r.undeliveredAtShutdown} undelivered at shutdown`);
  return parts.join('; ');
}

/**
 * Scenario 7, the real agent: `podtrace run` as its own process (synthetic source at a fixed rate,
 * 200 pods × 2 containers, enrichment off) exporting to loopback peers (an OTLP gRPC receiver that
 * does not decode, the librdkafka mock cluster). CPU is the process's utime + stime from /proc over
 * the measured window (after a warm-up), per event decoded in it; RSS is sampled from
 * /proc/<pid>/status; loss comes from the agent's /metrics (ring and sink drops in the window) and
 * its exit summary. Ratios are to the no-sink case of the same rate in the same run.
 */
export async function agentScenario(
  ctx: BenchContext,
  opts: AgentScenarioOptions = {},
): Promise<ScenarioResult> {
  const kafkaMissing = kafkaMockMissing();
  const wanted = opts.sets ?? (ctx.smoke ? ['none', 'all'] : AGENT_SINK_SETS.map((s) => s.label));
  const sets = AGENT_SINK_SETS.filter(
    (s) => wanted.includes(s.label) && (s.kafka === null || kafkaMissing === null),
  );
  const rates = opts.rates ?? (ctx.smoke ? [10_000] : AGENT_RATES);
  const flagsVariants = opts.nodeFlags ?? [imageNodeOptions()];
  const timing = ctx.smoke ? { warmMs: 500, windowMs: 1000 } : { warmMs: 3000, windowMs: 10_000 };
  const overloadTiming = ctx.smoke ? { warmMs: 500, windowMs: 1000 } : { warmMs: 3000, windowMs: 20_000 };
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-bench-agent-'));
  const otlp = sets.some((s) => s.otlp) ? await startOtlpReceiver() : null;
  const runs: AgentRun[] = [];
  const rows: Row[] = [];
  try {
    for (const flags of flagsVariants)
      for (const rate of rates)
        for (const set of sets)
          runs.push(await runAgentCase(ctx, dir, set, rate, flags, timing, otlp?.endpoint));
    const all = sets.find((s) => s.label === 'all');
    const overload: AgentRun[] = [];
    if (all && (opts.overload ?? !ctx.smoke))
      for (const flags of flagsVariants)
        overload.push(
          await runAgentCase(ctx, dir, all, AGENT_OVERLOAD_RATE, flags, overloadTiming, otlp?.endpoint),
        );
    for (const r of runs) {
      const base = runs.find((b) => b.set === 'none' && b.rate === r.rate && b.nodeFlags === r.nodeFlags);
      const ratio = base && r !== base ? ` (×${(r.cpuUsPerEvent / base.cpuUsPerEvent).toFixed(2)} none)` : '';
      rows.push({
        scenario: '7 agent',
        case: `${r.set} @ ${r.rate / 1000}k ev/s${flagsLabel(r.nodeFlags)}`,
        value: `${r.cpuUsPerEvent.toFixed(1)} µs/ev${ratio}`,
        detail: `RSS max ${fmtMb(r.rssMaxBytes)} (heap ${fmtMb(r.heapTotalBytes)}, external ${fmtMb(r.externalBytes)}); ${lossText(r)}; ${r.received} events in ${r.windowSeconds} s; load ${r.loadAverage.toFixed(1)}`,
      });
    }
    for (const r of overload)
      rows.push({
        scenario: '7 agent',
        case: `overload: all @ ${r.rate / 1000}k ev/s for ${r.windowSeconds} s${flagsLabel(r.nodeFlags)}`,
        value: `RSS max ${fmtMb(r.rssMaxBytes)} (heap ${fmtMb(r.heapTotalBytes)}, external ${fmtMb(r.externalBytes)})`,
        detail: `${r.cpuUsPerEvent.toFixed(1)} µs/ev decoded; ${lossText(r)}; load ${r.loadAverage.toFixed(1)}`,
      });
    rows.unshift({
      scenario: '7 agent',
      case: 'image flags',
      value: [imageNodeOptions() || '(none)', ...imageEnvFlags()].join(' '),
      detail: `NODE_OPTIONS (and allocator env) of deploy/Dockerfile; node's defaults size the heap from the machine's memory (${fmtMb(getHeapStatistics().heap_size_limit)} here)`,
    });
    if (kafkaMissing !== null)
      rows.push({ scenario: '7 agent', case: 'kafka sink sets', value: 'n/a', detail: kafkaMissing });
    return { name: 'agent', rows, data: { timing, overloadTiming, runs, overload } };
  } finally {
    otlp?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
