import { PROBE_GROUPS } from '../events/event-kind';
import type { ProbeGroup } from '../events/event-kind';
import { DEFAULT_NAMESPACES, parseNamespaceKinds } from '../exec/namespace-kinds';
import type { NamespaceKind } from '../exec/namespace-kinds';
import { UsageError } from './args';
import { parseDuration } from './record-command';

/** The namespace a pod is looked up in without `-n` (as kubectl does). */
export const DEFAULT_POD_NAMESPACE = 'default';

/** `-n NAMESPACE POD [-c CONTAINER]` plus the command's own `--flag value` pairs. */
export interface PodArgs {
  namespace: string;
  pod: string;
  container?: string;
  flags: Map<string, string>;
  /** Everything after `--`, untouched (exec's command); null when there was no `--`. */
  command: string[] | null;
}

const SHORT: Readonly<Record<string, string>> = { '-n': 'namespace', '-c': 'container' };

/**
 * Parses a pod command line: `-n NS` / `--namespace NS` / `--namespace=NS`, `-c` / `--container`,
 * the allowed `--flag value` / `--flag=value` pairs, exactly one POD, and `--` followed by a
 * command that is passed on as it is.
 */
export function parsePodArgs(argv: readonly string[], allowed: readonly string[]): PodArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  let command: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      command = argv.slice(i + 1);
      break;
    }
    let name: string;
    let value: string | undefined;
    if (SHORT[a] !== undefined) {
      name = SHORT[a];
      value = argv[++i];
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!['namespace', 'container', ...allowed].includes(name))
        throw new UsageError(`unknown flag --${name}`);
      value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    } else if (a.startsWith('-') && a.length > 1) {
      throw new UsageError(`unknown flag ${a}`);
    } else {
      positional.push(a);
      continue;
    }
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    flags.set(name, value);
  }
  if (positional.length === 0) throw new UsageError('missing POD (e.g. -n shop api-7d9c4-x2x8q)');
  if (positional.length > 1)
    throw new UsageError(`one POD expected, got ${positional.map((p) => `"${p}"`).join(', ')}`);
  const out: PodArgs = {
    namespace: flags.get('namespace') ?? DEFAULT_POD_NAMESPACE,
    pod: positional[0] as string,
    flags,
    command,
  };
  const container = flags.get('container');
  if (container !== undefined) out.container = container;
  return out;
}

export interface ExecArgs {
  namespace: string;
  pod: string;
  container?: string;
  config?: string;
  namespaces: NamespaceKind[];
  command: string;
  args: string[];
}

export function parseExecArgs(argv: readonly string[]): ExecArgs {
  const p = parsePodArgs(argv, ['ns', 'config']);
  if (p.command === null || p.command.length === 0)
    throw new UsageError('exec needs a command after -- (e.g. podtrace exec -n shop api-0 -- ip -o addr)');
  const ns = p.flags.get('ns');
  const kinds = ns === undefined ? [...DEFAULT_NAMESPACES] : parseNamespaceKinds(ns);
  if (typeof kinds === 'string') throw new UsageError(kinds);
  const out: ExecArgs = {
    namespace: p.namespace,
    pod: p.pod,
    namespaces: kinds,
    command: p.command[0] as string,
    args: p.command.slice(1),
  };
  if (p.container !== undefined) out.container = p.container;
  const config = p.flags.get('config');
  if (config !== undefined) out.config = config;
  return out;
}

export interface TraceArgs {
  namespace: string;
  pod: string;
  container?: string;
  config?: string;
  probes?: ProbeGroup[];
  output?: 'text' | 'json';
  durationMs?: number;
  /** `--diagnose DURATION`: collect for this long, then print the report instead of events. */
  diagnoseMs?: number;
  report?: string;
  reportFormat: 'text' | 'json';
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0)
    throw new UsageError(`--${flag}: "${text}" is not a duration (e.g. 20s, 500ms, 2m)`);
  return ms;
}

export function parseTraceArgs(argv: readonly string[]): TraceArgs {
  const p = parsePodArgs(argv, [
    'config',
    'probes',
    'output',
    'duration',
    'diagnose',
    'report',
    'report-format',
  ]);
  if (p.command !== null) throw new UsageError('trace takes no command after --');
  const f = p.flags;
  const out: TraceArgs = { namespace: p.namespace, pod: p.pod, reportFormat: 'text' };
  if (p.container !== undefined) out.container = p.container;
  const config = f.get('config');
  if (config !== undefined) out.config = config;
  const probes = f.get('probes');
  if (probes !== undefined) {
    const list = probes.split(',').map((x) => x.trim());
    for (const g of list)
      if (!(PROBE_GROUPS as readonly string[]).includes(g))
        throw new UsageError(`--probes: "${g}" is not a probe group (one of ${PROBE_GROUPS.join(', ')})`);
    out.probes = [...new Set(list)] as ProbeGroup[];
  }
  const output = f.get('output');
  if (output !== undefined) {
    if (output !== 'text' && output !== 'json')
      throw new UsageError(`--output: "${output}" is not text or json`);
    out.output = output;
  }
  const d = f.get('duration');
  if (d !== undefined) out.durationMs = duration('duration', d);
  const diag = f.get('diagnose');
  if (diag !== undefined) out.diagnoseMs = duration('diagnose', diag);
  const report = f.get('report');
  const format = f.get('report-format');
  if ((report !== undefined || format !== undefined) && diag === undefined)
    throw new UsageError('--report and --report-format go with --diagnose DURATION');
  if (report !== undefined) out.report = report;
  if (format !== undefined) {
    if (format !== 'text' && format !== 'json')
      throw new UsageError(`--report-format: "${format}" is not text or json`);
    out.reportFormat = format;
  }
  if (diag !== undefined && d !== undefined)
    throw new UsageError('--diagnose DURATION sets the window: leave out --duration');
  return out;
}
