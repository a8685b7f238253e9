import { ConfigError } from '../../core/errors';
import type { OtlpSinkConfig } from './otlp-config';
import { DEFAULT_OTLP_ENDPOINT, DEFAULT_OTLP_HTTP_ENDPOINT } from './otlp-config';
import type { OtlpProtocol, OtlpSignal } from './otlp-signal';
import { OTLP_HTTP_PATHS, OTLP_PROTOCOLS, SIGNAL_ENV } from './otlp-signal';

export const DEFAULT_OTLP_GRPC_PORT = 4317;
export const DEFAULT_OTLP_HTTP_PORT = 4318;

/** Where and how the sink connects for one signal, after the environment is applied. */
export interface OtlpTarget {
  signal: OtlpSignal;
  protocol: OtlpProtocol;
  /** Where `protocol` came from: `sinks.otlp.protocol`, an environment variable, or `default`. */
  protocolSource: string;
  /** The endpoint as configured (for logs). */
  endpoint: string;
  /** Where it came from: `sinks.otlp.endpoint`, an environment variable, or `default`. */
  source: string;
  /** `host:port` (the gRPC target; for HTTP the host and port of `url`). */
  address: string;
  /** OTLP/HTTP only: the full URL requests are POSTed to (`…/v1/traces`, `…/v1/logs`). */
  url: string | null;
  /** TLS (false: plain text). */
  secure: boolean;
  headers: Record<string, string>;
}

/** Parses `k1=v1,k2=v2` (values percent-encoded), as OTEL_EXPORTER_OTLP_HEADERS is written. */
export function parseOtlpHeaders(text: string | undefined, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  // Headers carry credentials: errors name the entry's position and key, never its text.
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') return;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim().toLowerCase() : '';
    if (key === '')
      throw new ConfigError(
        `${variable}: entry ${i + 1} (${entry.length} characters, not shown) is not key=value`,
      );
    try {
      out[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${variable}: the value of ${key} has a malformed percent-encoded value`);
    }
  });
  return out;
}

function envBoolean(env: NodeJS.ProcessEnv, variable: string): boolean | undefined {
  const v = env[variable]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(`${variable}: ${JSON.stringify(env[variable])} is not true or false`);
}

function firstSet(candidates: readonly (readonly [string | undefined, string])[]): [string, string] | null {
  for (const [value, from] of candidates)
    if (value !== undefined && value.trim() !== '') return [value.trim(), from];
  return null;
}

/** The protocol of a signal: `sinks.otlp.protocol`, OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, `grpc`. */
export function resolveOtlpProtocol(
  config: Pick<OtlpSinkConfig, 'protocol'>,
  env: NodeJS.ProcessEnv,
  signal: OtlpSignal,
): { protocol: OtlpProtocol; source: string } {
  const perSignal = `OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_PROTOCOL`;
  const found = firstSet([
    [config.protocol, 'sinks.otlp.protocol'],
    [env[perSignal], perSignal],
    [env.OTEL_EXPORTER_OTLP_PROTOCOL, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ]);
  if (found === null) return { protocol: 'grpc', source: 'default' };
  const [value, source] = found;
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(value)) {
    const hint = value === 'http/json' ? ' (http/json is not supported: use http/protobuf)' : '';
    throw new ConfigError(
      `${source}: ${JSON.stringify(value)} is not an OTLP protocol podtrace speaks (grpc or http/protobuf)${hint}`,
    );
  }
  return { protocol: value as OtlpProtocol, source };
}

interface ParsedEndpoint {
  scheme: 'http' | 'https' | null;
  /** `host` or `[v6]`. */
  host: string;
  port: number | null;
  /** '' or `/prefix` (no trailing slash). */
  path: string;
}

const ENDPOINT_RE =
  /^(?:(https?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$/;

function parseEndpoint(endpoint: string, source: string, protocol: OtlpProtocol): ParsedEndpoint {
  const m = ENDPOINT_RE.exec(endpoint);
  const scheme = (m?.[1] as 'http' | 'https' | undefined) ?? null;
  const what =
    protocol === 'grpc'
      ? 'an OTLP gRPC endpoint (http(s)://host:port or host:port)'
      : 'an OTLP/HTTP endpoint (http(s)://host[:port][/path])';
  // Without a scheme only host:port is an endpoint (gRPC's form).
  if (m === null || (scheme === null && (m[3] === undefined || m[4] !== undefined))) {
    throw new ConfigError(`${source}: ${JSON.stringify(endpoint)} is not ${what}`);
  }
  const port = m[3] === undefined ? null : Number(m[3]);
  if (port !== null && (port < 1 || port > 65535))
    throw new ConfigError(`${source}: ${JSON.stringify(endpoint)} has port ${port} out of range`);
  const path = (m[4] ?? '').replace(/\/+$/, '');
  if (protocol === 'grpc' && path !== '')
    throw new ConfigError(`${source}: ${JSON.stringify(endpoint)} is not ${what}: gRPC takes no path`);
  return { scheme, host: m[2]!, port, path };
}

/**
 * Resolves protocol, endpoint, security and headers of one signal. Precedence: the config file's
 * `sinks.otlp.*`, then the OpenTelemetry variables (the per-signal ones before the generic ones),
 * then the defaults. Endpoint rules of the OTLP exporter specification: for OTLP/HTTP the base
 * endpoint (`sinks.otlp.endpoint`, OTEL_EXPORTER_OTLP_ENDPOINT) gets `/v1/traces` or `/v1/logs`
 * appended, a per-signal variable (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) is used as given.
 */
export function resolveOtlpTarget(
  config: OtlpSinkConfig,
  env: NodeJS.ProcessEnv,
  signal: OtlpSignal = 'traces',
): OtlpTarget {
  const { protocol, source: protocolSource } = resolveOtlpProtocol(config, env, signal);
  const http = protocol === 'http/protobuf';
  const perSignal = `OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_ENDPOINT`;
  const found = firstSet([
    [config.endpoint, 'sinks.otlp.endpoint'],
    [env[perSignal], perSignal],
    [env.OTEL_EXPORTER_OTLP_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  ]) ?? [http ? DEFAULT_OTLP_HTTP_ENDPOINT : DEFAULT_OTLP_ENDPOINT, 'default'];
  const [endpoint, source] = found;
  const parsed = parseEndpoint(endpoint, source, protocol);
  const insecure =
    config.insecure ??
    envBoolean(env, `OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_INSECURE`) ??
    envBoolean(env, 'OTEL_EXPORTER_OTLP_INSECURE') ??
    parsed.scheme === 'http';
  const secure = !insecure;
  let port = parsed.port;
  let url: string | null = null;
  if (http) {
    // A URL without a port means the scheme's (an ingress on 443); 4318 is the default endpoint's.
    port ??= secure ? 443 : 80;
    const path = source === perSignal ? parsed.path || '/' : `${parsed.path}${OTLP_HTTP_PATHS[signal]}`;
    url = `${secure ? 'https' : 'http'}://${parsed.host}:${port}${path}`;
  } else {
    port ??= DEFAULT_OTLP_GRPC_PORT;
  }
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseOtlpHeaders(
      env[`OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_HEADERS`],
      `OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_HEADERS`,
    ),
  };
  for (const [k, v] of Object.entries(config.headers)) headers[k.toLowerCase()] = v;
  return {
    signal,
    protocol,
    protocolSource,
    endpoint,
    source,
    address: `${parsed.host}:${port}`,
    url,
    secure,
    headers,
  };
}
