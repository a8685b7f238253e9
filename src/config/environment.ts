/**
 * Environment overrides.
 *
 * Precedence, highest first:
 *   1. command-line flags (passed to `loadConfig()` as `ConfigOverride`s by the CLI),
 *   2. the environment variables below,
 *   3. the config file (`--config`, default `config/podtrace.yaml`),
 *   4. the built-in defaults of each section's schema.
 *
 * Only podtrace's own names and the standard Kubernetes / OpenTelemetry ones are read — never
 * generic names like CONTAINER_NAME. An empty variable counts as unset. A variable whose value is
 * rejected by the schema is named in the error (`... (from PODTRACE_KAFKA_BROKERS)`).
 *
 * OpenTelemetry: the standard OTLP exporter variables map onto the `sinks.otlp` section here, with
 * the same precedence as every other variable (they beat the file). The signal-specific
 * `OTEL_EXPORTER_OTLP_TRACES_*` variable wins over the generic `OTEL_EXPORTER_OTLP_*` one. Header
 * and resource-attribute lists (`k1=v1,k2=v2`, values percent-decoded) are merged key by key over
 * what the file sets. The OTLP sink itself does not read `process.env`.
 */
export interface EnvOverride {
  variable: string;
  /** Key path in the config file. */
  key: string;
  parse?: (value: string) => unknown;
  /** Merge an object value key by key into what is already there instead of replacing it. */
  merge?: boolean;
  /** One line for `docs/operations.md` and `podtrace config print`. */
  description: string;
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `k1=v1,k2=v2` (the OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES format) → object. */
export function parseKeyValueList(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list(v)) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue; // the OTel spec says to ignore malformed entries
    out[decode(item.slice(0, eq).trim())] = decode(item.slice(eq + 1).trim());
  }
  return out;
}

// Order matters: later entries win when they write the same key (TRACES_* after the generic one).
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'NODE_NAME', key: 'nodeName', description: 'this node (downward API spec.nodeName)' },
  {
    variable: 'PODTRACE_CRI_ENDPOINT',
    key: 'enrich.cri.endpoint',
    description: 'CRI runtime socket, e.g. unix:///run/containerd/containerd.sock',
  },
  {
    variable: 'PODTRACE_CGROUP_BASE',
    key: 'enrich.cgroupBase',
    description: 'where the host cgroup2 tree is mounted',
  },
  {
    variable: 'PODTRACE_PROC_BASE',
    key: 'enrich.procBase',
    description: "where the host's /proc is mounted",
  },
  {
    variable: 'PODTRACE_KAFKA_BROKERS',
    key: 'sinks.kafka.brokers',
    parse: list,
    description: 'comma-separated host:port list',
  },
  {
    variable: 'PODTRACE_LOG_LEVEL',
    key: 'telemetry.log.level',
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  { variable: 'PODTRACE_LOG_FORMAT', key: 'telemetry.log.format', description: 'auto, json or text' },
  {
    variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    key: 'sinks.otlp.endpoint',
    description: 'OTLP/gRPC collector URL, e.g. http://otel-collector:4317',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    key: 'sinks.otlp.endpoint',
    description: 'same, for traces only; wins over OTEL_EXPORTER_OTLP_ENDPOINT',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_HEADERS',
    key: 'sinks.otlp.headers',
    parse: parseKeyValueList,
    merge: true,
    description: 'gRPC metadata sent with every export, k1=v1,k2=v2',
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    key: 'sinks.otlp.headers',
    parse: parseKeyValueList,
    merge: true,
    description: 'same, for traces only; wins over OTEL_EXPORTER_OTLP_HEADERS per header',
  },
  {
    variable: 'OTEL_RESOURCE_ATTRIBUTES',
    key: 'sinks.otlp.resourceAttributes',
    parse: parseKeyValueList,
    merge: true,
    description: 'extra resource attributes, k1=v1,k2=v2',
  },
];

/** A value set from outside the file: a command-line flag or an environment variable. */
export interface ConfigOverride {
  /** Key path, dots between keys: `sinks.kafka.brokers`. */
  key: string;
  value: unknown;
  /** Where it came from, quoted in errors: `--probes`, `PODTRACE_KAFKA_BROKERS`. */
  origin: string;
  merge?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function setPath(root: Record<string, unknown>, key: string, value: unknown, merge: boolean): void {
  const parts = key.split('.');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1] as string;
  const existing = cur[last];
  cur[last] = merge && isObject(existing) && isObject(value) ? { ...existing, ...value } : value;
}

/** The overrides the environment sets, in the order they apply. */
export function environmentOverrides(env: NodeJS.ProcessEnv): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const o of ENV_OVERRIDES) {
    const v = env[o.variable];
    if (v === undefined || v === '') continue;
    out.push({ key: o.key, value: o.parse ? o.parse(v) : v, origin: o.variable, merge: o.merge ?? false });
  }
  return out;
}

/** Returns a copy of `raw` with `overrides` applied in order (later ones win). */
export function applyOverrides(raw: unknown, overrides: readonly ConfigOverride[]): unknown {
  if (!isObject(raw)) return raw;
  const out = structuredClone(raw);
  for (const o of overrides) setPath(out, o.key, o.value, o.merge ?? false);
  return out;
}

/** Returns a copy of `raw` with every set environment override applied. */
export function applyEnvironment(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  return applyOverrides(raw, environmentOverrides(env));
}
