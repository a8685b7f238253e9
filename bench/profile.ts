/**
 * `node dist/bench/profile.js [--sinks null,console] [--rate 0] [--seconds 10]`
 * `node dist/bench/profile.js --agent all [--rate 10000] [--seconds 10]`
 *
 * Runs one pipeline-worker (or, with `--agent <sink set>`, the real `podtrace run` process of the
 * agent scenario) under `node --cpu-prof` and prints where the CPU went: self time per function
 * and per file, from the .cpuprofile V8 wrote (also kept, for Chrome DevTools).
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT, runWorker } from './lib/proc';
import { AGENT_SINK_SETS, runAgentCase } from './scenarios/agent';
import { BENCH_CONTAINERS_PER_POD, BENCH_PODS } from './scenarios/pipeline';
import type { PipelineArgs, PipelineResult } from './workers/pipeline-worker';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function flag(argv: string[], name: string, def: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? def) : def;
}

function where(url: string): string {
  if (url === '') return '(native/VM)';
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(ROOT) ? relative(ROOT, path) : path.replace(/^.*node_modules\//, 'node_modules/');
}

function summary(dir: string): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of prof.nodes) {
    const t = self.get(n.id) ?? 0;
    if (t === 0) continue;
    const f = where(n.callFrame.url);
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${f}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    byFile.set(f, (byFile.get(f) ?? 0) + t);
  }
  const top = (m: Map<string, number>, n: number): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  return `profile: ${join(dir, file)}\n\nself time by function:\n${top(byFn, 25)}\n\nself time by file:\n${top(byFile, 12)}`;
}

/** The agent process under --cpu-prof, with the agent scenario's peers and measurement. */
async function profileAgent(argv: string[], dir: string): Promise<void> {
  const label = flag(argv, 'agent', 'all');
  const set = AGENT_SINK_SETS.find((s) => s.label === label);
  if (!set)
    throw new Error(
      `--agent: unknown sink set "${label}" (${AGENT_SINK_SETS.map((s) => s.label).join(', ')})`,
    );
  const seconds = Number(flag(argv, 'seconds', '10'));
  const run = await runAgentCase(
    {
      smoke: false,
      reps: 1,
      tools: { gen: '', cConsumer: '', processObject: '' },
      log: (l) => console.error(l),
      agent: {},
    },
    dir,
    set,
    Number(flag(argv, 'rate', '10000')),
    `--cpu-prof --cpu-prof-dir=${dir} ${flag(argv, 'node-flags', '')}`.trim(),
    { warmMs: 3000, windowMs: seconds * 1000 },
  );
  console.log(
    `agent ${label} @ ${run.rate} ev/s: ${run.cpuUsPerEvent.toFixed(1)} µs/event (under the profiler), RSS max ${(run.rssMaxBytes / 2 ** 20).toFixed(0)} MB, ${JSON.stringify(run.droppedByReason)} dropped`,
  );
  console.log(summary(dir));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-prof-'));
  if (argv.includes('--agent')) return profileAgent(argv, dir);
  const args: PipelineArgs = {
    rate: Number(flag(argv, 'rate', '0')),
    seconds: Number(flag(argv, 'seconds', '10')),
    sinks: flag(argv, 'sinks', 'null,console').split(',').filter(Boolean),
    pods: BENCH_PODS,
    containersPerPod: BENCH_CONTAINERS_PER_POD,
    latency: false,
  };
  const result = await runWorker<PipelineResult>('pipeline-worker', args, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  console.log(
    `pipeline ${JSON.stringify(args)}: delivered ${(result.deliveredPerSec / 1000).toFixed(1)} k/s, ${result.cpuSecondsPerMillion.toFixed(2)} CPU-s/M events`,
  );
  console.log(summary(dir));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
