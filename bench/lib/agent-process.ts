import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NODE, ROOT, start, waitForOutput } from './proc';
import type { Child } from './proc';
import { processCpuSeconds, processMemory } from './proc-stats';

/** Where the agent's sinks export to (loopback peers the scenario started). */
export interface AgentPeers {
  otlpEndpoint?: string;
  kafkaBrokers?: string[];
  kafkaEncodings?: string[];
}

export interface AgentOptions extends AgentPeers {
  dir: string;
  rate: number;
  pods: number;
  containersPerPod: number;
  /**
   * Flags for node before the script (`--max-semi-space-size=…`); `--set=key=value` ones go to
   * `podtrace run`, `--env=NAME=value` ones into its environment (`MALLOC_ARENA_MAX=2`).
   */
  nodeFlags: readonly string[];
  /** Port of the telemetry endpoint (`telemetry.listen` rejects port 0). */
  telemetryPort: number;
}

/** The counters of one /metrics scrape the agent scenario reads. */
export interface AgentCounters {
  received: number;
  /** podtrace_dropped_total by stage (summed over reasons). */
  droppedByStage: Record<string, number>;
  /** podtrace_dropped_total by `stage:reason`. */
  droppedByReason: Record<string, number>;
  exportedBySink: Record<string, number>;
  /** V8 heap (total) and memory held outside it (Buffers, zlib), from the default Node metrics. */
  heapTotalBytes: number;
  externalBytes: number;
}

/** A `podtrace run` process with its telemetry endpoint. */
export interface AgentProcess {
  child: Child;
  pid: number;
  metricsUrl: string;
}

/** The agent's config: synthetic source at a fixed rate, enrichment and console off, telemetry on loopback. */
export function agentConfig(o: AgentOptions): Record<string, unknown> {
  const sinks: Record<string, unknown> = { console: { enabled: false } };
  if (o.otlpEndpoint !== undefined) sinks.otlp = { enabled: true, endpoint: o.otlpEndpoint };
  if (o.kafkaBrokers !== undefined)
    sinks.kafka = { enabled: true, brokers: o.kafkaBrokers, encodings: o.kafkaEncodings ?? ['json'] };
  return {
    nodeName: 'bench-node',
    source: {
      kind: 'synthetic',
      synthetic: { eventsPerSecond: o.rate, pods: o.pods, containersPerPod: o.containersPerPod },
    },
    enrich: { enabled: false },
    sinks,
    telemetry: {
      enabled: true,
      listen: `127.0.0.1:${o.telemetryPort}`,
      log: { level: 'info', format: 'json' },
    },
  };
}

/** A loopback TCP port free right now (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      server.close(() =>
        typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Starts `node [flags] dist/src/cli/main.js run --config …` and waits until it runs and serves /metrics. */
export async function startAgent(o: AgentOptions): Promise<AgentProcess> {
  const config = join(o.dir, `agent-${Date.now()}.yaml`);
  // YAML is a superset of JSON.
  writeFileSync(config, `${JSON.stringify(agentConfig(o), null, 2)}\n`);
  const node = o.nodeFlags.filter((f) => !f.startsWith('--set=') && !f.startsWith('--env='));
  const sets = o.nodeFlags.filter((f) => f.startsWith('--set=')).flatMap((f) => ['--set', f.slice(6)]);
  // No OTEL_* or PODTRACE_* from the bench's own environment.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.dir };
  for (const f of o.nodeFlags.filter((x) => x.startsWith('--env='))) {
    const eq = f.indexOf('=', 6);
    env[f.slice(6, eq)] = f.slice(eq + 1);
  }
  const script = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const child = start(NODE, [...node, script, 'run', '--config', config, ...sets], { cwd: o.dir, env });
  await waitForOutput(child, /podtrace running/, 'podtrace run');
  const pid = child.proc.pid;
  if (pid === undefined) throw new Error('podtrace run: no pid');
  return { child, pid, metricsUrl: `http://127.0.0.1:${o.telemetryPort}/metrics` };
}

const SAMPLE =
  /^(podtrace_events_received_total|podtrace_dropped_total|podtrace_sink_exported_total)\{([^}]*)\} (\S+)$/gm;

function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Reads the counters the scenario needs from the agent's /metrics. */
export async function scrape(agent: AgentProcess): Promise<AgentCounters> {
  const res = await fetch(agent.metricsUrl);
  if (!res.ok) throw new Error(`${agent.metricsUrl}: HTTP ${res.status}`);
  const text = await res.text();
  const out: AgentCounters = {
    received: 0,
    droppedByStage: {},
    droppedByReason: {},
    exportedBySink: {},
    heapTotalBytes: gauge(text, 'podtrace_nodejs_heap_size_total_bytes'),
    externalBytes: gauge(text, 'podtrace_nodejs_external_memory_bytes'),
  };
  for (const [, name, labels = '', value] of text.matchAll(SAMPLE)) {
    const v = Number(value);
    const label = (key: string): string => new RegExp(`${key}="([^"]*)"`).exec(labels)?.[1] ?? '';
    if (name === 'podtrace_events_received_total') out.received += v;
    else if (name === 'podtrace_dropped_total') {
      const s = label('stage');
      out.droppedByStage[s] = (out.droppedByStage[s] ?? 0) + v;
      const r = `${s}:${label('reason')}`;
      out.droppedByReason[r] = (out.droppedByReason[r] ?? 0) + v;
    } else {
      const s = label('sink');
      out.exportedBySink[s] = (out.exportedBySink[s] ?? 0) + v;
    }
  }
  return out;
}

/** One reading of the live process: CPU seconds so far, RSS and its high-water mark. */
export function readProcess(agent: AgentProcess): { cpuSeconds: number; rssBytes: number; hwmBytes: number } {
  return { cpuSeconds: processCpuSeconds(agent.pid), ...processMemory(agent.pid) };
}

/** SIGTERM, then the exit code and the events the exit summary says the shutdown deadline cut off. */
export async function stopAgent(agent: AgentProcess): Promise<{ code: number | null; undelivered: number }> {
  agent.child.proc.kill('SIGTERM');
  const timer = setTimeout(() => agent.child.proc.kill('SIGKILL'), 60_000);
  const code = await agent.child.exited;
  clearTimeout(timer);
  let undelivered = 0;
  for (const m of agent.child.stderr().matchAll(/: (\d+) events not delivered by the shutdown deadline/g))
    undelivered += Number(m[1]);
  return { code, undelivered };
}
