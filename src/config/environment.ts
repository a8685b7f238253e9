/**
 * Environment overrides. Precedence, highest first: command-line flags, these variables, the
 * config file, built-in defaults. Only podtrace's own names and the standard Kubernetes /
 * OpenTelemetry ones are read — never generic names like CONTAINER_NAME.
 */
export interface EnvOverride {
  variable: string;
  /** Key path in the config file. */
  key: string;
  parse?: (value: string) => unknown;
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'NODE_NAME', key: 'nodeName' },
  { variable: 'PODTRACE_CRI_ENDPOINT', key: 'enrich.cri.endpoint' },
  { variable: 'PODTRACE_CGROUP_BASE', key: 'enrich.cgroupBase' },
  { variable: 'PODTRACE_PROC_BASE', key: 'enrich.procBase' },
  { variable: 'PODTRACE_KAFKA_BROKERS', key: 'sinks.kafka.brokers', parse: list },
];

function setPath(root: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

/** Returns a copy of `raw` with every set override applied. */
export function applyEnvironment(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out = structuredClone(raw) as Record<string, unknown>;
  for (const o of ENV_OVERRIDES) {
    const v = env[o.variable];
    if (v !== undefined && v !== '') setPath(out, o.key, o.parse ? o.parse(v) : v);
  }
  return out;
}
