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
 * OpenTelemetry variables are NOT mapped here: the OTLP sink reads them itself
 * (src/sinks/otlp/otlp-target.ts, src/sinks/otlp/otlp-sink.ts) with the OpenTelemetry SDK's
 * precedence, where explicit configuration beats the environment:
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, then `OTEL_EXPORTER_OTLP_ENDPOINT`: used when
 *   `sinks.otlp.endpoint` is not set;
 * - `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_TRACES_HEADERS`: merged per header under
 *   `sinks.otlp.headers` (the file wins on the same header);
 * - `OTEL_EXPORTER_OTLP_(TRACES_)INSECURE`: used when `sinks.otlp.insecure` is not set;
 * - `OTEL_RESOURCE_ATTRIBUTES`: added to every span resource (podtrace's own keys win).
 * They are listed in `OTEL_VARIABLES` for documentation and `config print`.
 */
export interface EnvOverride {
  variable: string;
  /** Key path in the config file. */
  key: string;
  parse?: (value: string) => unknown;
  /** One line for `docs/operations.md` and `podtrace config print`. */
  description: string;
}

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

// Order matters: later entries win when they write the same key.
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
];

/** OpenTelemetry variables the OTLP sink reads itself (see above); not config overrides. */
export const OTEL_VARIABLES: readonly string[] = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_INSECURE',
  'OTEL_EXPORTER_OTLP_TRACES_INSECURE',
  'OTEL_RESOURCE_ATTRIBUTES',
];

/** A value set from outside the file: a command-line flag or an environment variable. */
export interface ConfigOverride {
  /** Key path, dots between keys: `sinks.kafka.brokers`. */
  key: string;
  value: unknown;
  /** Where it came from, quoted in errors: `--probes`, `PODTRACE_KAFKA_BROKERS`. */
  origin: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function setPath(root: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

/** The overrides the environment sets, in the order they apply. */
export function environmentOverrides(env: NodeJS.ProcessEnv): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const o of ENV_OVERRIDES) {
    const v = env[o.variable];
    if (v === undefined || v === '') continue;
    out.push({ key: o.key, value: o.parse ? o.parse(v) : v, origin: o.variable });
  }
  return out;
}

/** Returns a copy of `raw` with `overrides` applied in order (later ones win). */
export function applyOverrides(raw: unknown, overrides: readonly ConfigOverride[]): unknown {
  if (!isObject(raw)) return raw;
  const out = structuredClone(raw);
  for (const o of overrides) setPath(out, o.key, o.value);
  return out;
}

/** Returns a copy of `raw` with every set environment override applied. */
export function applyEnvironment(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  return applyOverrides(raw, environmentOverrides(env));
}
