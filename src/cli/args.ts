import { PROBE_GROUPS } from '../events/event-kind';
import type { ProbeGroup } from '../events/event-kind';

export class UsageError extends Error {}

export interface RunArgs {
  config?: string;
  probes?: ProbeGroup[];
  output?: 'text' | 'json';
  /** `--set key.path=value`, in order (later wins). */
  set?: string[];
  help?: boolean;
}

export const RUN_USAGE = `usage: podtrace run [--config FILE] [--probes process,tcp,oom] [--output text|json] [--set key.path=value ...]

  --config FILE        the YAML configuration (default: config/podtrace.yaml when it exists)
  --probes LIST        probe groups to attach (source.ebpf.probes)
  --output text|json   print events on stdout (sinks.console.enabled and .format)
  --set key.path=value set any configuration key; the value is YAML ([a, b], true, 42);
                       repeatable, beats the file and the environment
  --help               this text`;

export const USAGE = `usage:
  podtrace run [--config FILE] [--probes process,tcp,oom] [--output text|json] [--set key.path=value ...] [--help]
  podtrace record --out FILE [--duration 10s] [--probes process,tcp,oom] [--config FILE]
  podtrace check [--config FILE]
  podtrace trace [-n NAMESPACE] POD [-c CONTAINER] [--duration 30s] [--output text|json] [--probes …] [--config FILE]
                 [--diagnose 20s [--report FILE] [--report-format text|json]]
  podtrace exec [-n NAMESPACE] POD [-c CONTAINER] [--ns net,uts,ipc,pid,mnt,cgroup] [--config FILE] -- CMD [ARGS…]
  podtrace config print [--config FILE]
  podtrace config validate FILE
  podtrace --version`;

/** Parses `--flag value` / `--flag=value` pairs against the allowed flags. */
export function parseFlags(argv: readonly string[], allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!allowed.includes(name)) throw new UsageError(`unknown flag --${name}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const rest: string[] = [];
  const set: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') help = true;
    else if (a === '--set' || a.startsWith('--set=')) {
      const value = a === '--set' ? argv[++i] : a.slice('--set='.length);
      if (value === undefined || value === '') throw new UsageError('--set needs key.path=value');
      set.push(value);
    } else rest.push(a);
  }
  if (help) return { help: true };
  const flags = parseFlags(rest, ['config', 'probes', 'output']);
  const args: RunArgs = {};
  if (set.length > 0) args.set = set;
  const config = flags.get('config');
  if (config !== undefined) args.config = config;
  const probes = flags.get('probes');
  if (probes !== undefined) {
    const list = probes.split(',').map((p) => p.trim());
    for (const p of list) {
      if (!(PROBE_GROUPS as readonly string[]).includes(p)) {
        throw new UsageError(`--probes: "${p}" is not a probe group (one of ${PROBE_GROUPS.join(', ')})`);
      }
    }
    args.probes = [...new Set(list)] as ProbeGroup[];
  }
  const output = flags.get('output');
  if (output !== undefined) {
    if (output !== 'text' && output !== 'json')
      throw new UsageError(`--output: "${output}" is not text or json`);
    args.output = output;
  }
  return args;
}
