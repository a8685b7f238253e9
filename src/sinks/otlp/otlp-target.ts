import { ConfigError } from '../../core/errors';
import type { OtlpSinkConfig } from './otlp-config';
import { DEFAULT_OTLP_ENDPOINT, OTLP_ENDPOINT_PATTERN } from './otlp-config';

export const DEFAULT_OTLP_GRPC_PORT = 4317;

/** Where and how the sink connects, after the environment is applied. */
export interface OtlpTarget {
  /** The endpoint as configured (for logs). */
  endpoint: string;
  /** Where it came from: `sinks.otlp.endpoint`, an environment variable, or `default`. */
  source: string;
  /** gRPC target `host:port`. */
  address: string;
  /** TLS (false: plain-text HTTP/2). */
  secure: boolean;
  headers: Record<string, string>;
}

const endpointRe = new RegExp(OTLP_ENDPOINT_PATTERN);

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

/**
 * Resolves endpoint, security and headers. Precedence: the config file's `sinks.otlp.*`, then the
 * OpenTelemetry variables (the `TRACES_` ones before the generic ones), then the defaults.
 */
export function resolveOtlpTarget(config: OtlpSinkConfig, env: NodeJS.ProcessEnv): OtlpTarget {
  let endpoint = DEFAULT_OTLP_ENDPOINT;
  let source = 'default';
  for (const [value, from] of [
    [config.endpoint, 'sinks.otlp.endpoint'],
    [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [env.OTEL_EXPORTER_OTLP_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  ] as const) {
    if (value !== undefined && value.trim() !== '') {
      endpoint = value.trim();
      source = from;
      break;
    }
  }
  if (!endpointRe.test(endpoint)) {
    throw new ConfigError(
      `${source}: ${JSON.stringify(endpoint)} is not an OTLP gRPC endpoint (http(s)://host:port or host:port)`,
    );
  }
  const scheme = /^(https?):\/\//.exec(endpoint)?.[1];
  const hostPort = endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const hasPort = /:[0-9]{1,5}$/.test(hostPort) && !hostPort.endsWith(']');
  const address = hasPort ? hostPort : `${hostPort}:${DEFAULT_OTLP_GRPC_PORT}`;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535)
    throw new ConfigError(`${source}: ${JSON.stringify(endpoint)} has port ${port} out of range`);
  const insecure =
    config.insecure ??
    envBoolean(env, 'OTEL_EXPORTER_OTLP_TRACES_INSECURE') ??
    envBoolean(env, 'OTEL_EXPORTER_OTLP_INSECURE') ??
    scheme === 'http';
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  for (const [k, v] of Object.entries(config.headers)) headers[k.toLowerCase()] = v;
  return { endpoint, source, address, secure: !insecure, headers };
}
