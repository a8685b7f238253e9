/**
 * `npm run bench [-- --smoke] [--only drain,overhead,groups,pipeline,latency,memory,agent] [--reps N]`
 *   `[--agent-rates 10000,50000] [--agent-sets none,otlp,kafka-json,kafka-otlp_proto,all]`
 *   `[--agent-node-flags 'image,default,--max-semi-space-size=4 --set=sinks.otlp.queue.maxBytes=8388608']`
 *   `[--agent-overload yes|no]` (variants separated by commas; `image` = deploy/Dockerfile's NODE_OPTIONS, the default;
 *   `default` = node's own; `--set=` flags go to `podtrace run`, `--env=` to its environment)
 *
 * Runs the benchmark scenarios side by side (each comparison inside the same run, medians of
 * several runs), prints a table and writes bench/results/<date>-<commit>.json. No thresholds:
 * it fails only when something crashes. `--smoke` runs every scenario briefly (CI, < 60 s).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildNativeTools } from './lib/native-build';
import { ROOT } from './lib/proc';
import { AGENT_SINK_SETS, agentScenario, imageNodeOptions } from './scenarios/agent';
import type { AgentScenarioOptions } from './scenarios/agent';
import { drainScenario } from './scenarios/drain';
import { groupsScenario } from './scenarios/groups';
import { memoryScenario } from './scenarios/memory';
import { overheadScenario } from './scenarios/overhead';
import { latencyScenario, pipelineScenario } from './scenarios/pipeline';
import type { BenchContext, Row, ScenarioResult } from './scenarios/types';

const SCENARIOS: Record<
  string,
  { run: (ctx: BenchContext) => Promise<ScenarioResult>; needsKernel: boolean }
> = {
  drain: { run: drainScenario, needsKernel: true },
  overhead: { run: overheadScenario, needsKernel: true },
  groups: { run: groupsScenario, needsKernel: true },
  pipeline: { run: pipelineScenario, needsKernel: false },
  latency: { run: latencyScenario, needsKernel: false },
  memory: { run: memoryScenario, needsKernel: false },
  agent: { run: (ctx) => agentScenario(ctx, ctx.agent), needsKernel: false },
};

interface Options {
  smoke: boolean;
  only: string[];
  reps: number;
  agent: AgentScenarioOptions;
}

/** `--name value` or `--name=value`: the value, advancing `i` past it when separate. */
function flagValue(argv: readonly string[], i: { at: number }, name: string): string | undefined {
  const a = argv[i.at] as string;
  if (a === name) return argv[++i.at] ?? '';
  if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  return undefined;
}

function agentOption(o: AgentScenarioOptions, name: string, v: string): void {
  const list = v.split(',').filter(Boolean);
  if (name === '--agent-rates') {
    o.rates = list.map(Number);
    if (o.rates.length === 0 || o.rates.some((r) => !Number.isInteger(r) || r < 1))
      throw new Error(`--agent-rates: "${v}" is not a list of positive integers (events/s)`);
  } else if (name === '--agent-sets') {
    const known = AGENT_SINK_SETS.map((s) => s.label);
    for (const s of list)
      if (!known.includes(s)) throw new Error(`--agent-sets: unknown sink set "${s}" (${known.join(', ')})`);
    o.sets = list;
  } else if (name === '--agent-node-flags')
    o.nodeFlags = list.map((f) => (f === 'default' ? '' : f === 'image' ? imageNodeOptions() : f));
  else if (v === 'yes' || v === 'no') o.overload = v === 'yes';
  else throw new Error(`--agent-overload: "${v}" must be yes or no`);
}

function parse(argv: readonly string[]): Options {
  const o: Options = { smoke: false, only: Object.keys(SCENARIOS), reps: 0, agent: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const at = { at: i };
    const agentFlag = ['--agent-rates', '--agent-sets', '--agent-node-flags', '--agent-overload'].find(
      (n) => flagValue(argv, { at: i }, n) !== undefined,
    );
    if (agentFlag !== undefined) {
      agentOption(o.agent, agentFlag, flagValue(argv, at, agentFlag) ?? '');
      i = at.at;
    } else if (a === '--smoke') o.smoke = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : (argv[++i] ?? '');
      o.only = v.split(',').filter(Boolean);
      for (const s of o.only)
        if (!(s in SCENARIOS))
          throw new Error(`--only: unknown scenario "${s}" (${Object.keys(SCENARIOS).join(', ')})`);
    } else if (a === '--reps' || a.startsWith('--reps=')) {
      o.reps = Number(a.includes('=') ? a.slice(7) : argv[++i]);
      if (!Number.isInteger(o.reps) || o.reps < 1) throw new Error('--reps must be a positive integer');
    } else
      throw new Error(
        `unknown argument "${a}" (usage: npm run bench -- [--smoke] [--only a,b] [--reps N] [--agent-rates r,r] [--agent-sets s,s] [--agent-node-flags f,f] [--agent-overload yes|no])`,
      );
  }
  if (o.reps === 0) o.reps = o.smoke ? 1 : 3;
  return o;
}

/** Why real-kernel scenarios cannot run here, or null. */
function kernelMissing(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (eBPF)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs BTF (/sys/kernel/btf/vmlinux)';
  if (!existsSync(join(ROOT, 'build', 'Release', 'podtrace_native.node')))
    return 'addon not built (npm run build)';
  if (!existsSync(join(ROOT, 'build', 'bpf', 'process.bpf.o')))
    return 'BPF objects not built (npm run build)';
  return null;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

function table(rows: Row[]): string {
  const cols: (keyof Row)[] = ['scenario', 'case', 'value', 'detail'];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells
      .map((s, i) => s.padEnd(width[i] as number))
      .join(' | ')
      .trimEnd();
  return [
    line(cols),
    width.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.map((r) => line(cols.map((c) => r[c]))),
  ].join('\n');
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  const started = new Date();
  const log = (l: string): void => console.error(l);
  const missingKernel = kernelMissing();
  const wantKernel = opts.only.some((s) => SCENARIOS[s]?.needsKernel);
  if (wantKernel && missingKernel !== null && process.env.CI === 'true')
    throw new Error(`prerequisite missing in CI: ${missingKernel}`);
  const tools =
    wantKernel && missingKernel === null ? buildNativeTools() : { gen: '', cConsumer: '', processObject: '' };
  const ctx: BenchContext = { smoke: opts.smoke, reps: opts.reps, tools, log, agent: opts.agent };
  const results: ScenarioResult[] = [];
  for (const name of opts.only) {
    const s = SCENARIOS[name];
    if (!s) continue;
    if (s.needsKernel && missingKernel !== null) {
      log(`SKIP ${name}: ${missingKernel}`);
      results.push({
        name,
        rows: [{ scenario: name, case: '(skipped)', value: 'n/a', detail: missingKernel }],
        data: null,
        skipped: missingKernel,
      });
      continue;
    }
    log(`${name}…`);
    const t0 = Date.now();
    results.push(await s.run(ctx));
    log(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
  };
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const rows = results.flatMap((r) => r.rows);
  console.log(
    `podtrace bench ${opts.smoke ? '(smoke) ' : ''}— ${started.toISOString()} — commit ${commit}${dirty ? ' (dirty)' : ''}`,
  );
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, Linux ${machine.kernel}, Node ${machine.node}`,
  );
  console.log(`command: ${command}; medians of ${opts.reps} run(s)\n`);
  console.log(table(rows));
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().slice(0, 10)}-${commit}${opts.smoke ? '-smoke' : ''}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: started.toISOString(), commit, dirty, command, smoke: opts.smoke, reps: opts.reps, machine, rows, scenarios: results }, null, 2)}\n`,
  );
  console.log(`\nresults: ${file} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
