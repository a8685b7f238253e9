import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors';
import { configSchema } from './schema';
import type { PodtraceConfig } from './config';
import { applyOverrides, environmentOverrides } from './environment';
import type { ConfigOverride } from './environment';

/** `host:port` with a port in 1..65535; hosts are names, IPv4 or bracketed IPv6. */
export function isHostPort(value: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})$/.exec(value);
  if (m === null) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
ajv.addKeyword({
  keyword: 'powerOfTwo',
  type: 'integer',
  schemaType: 'boolean',
  validate: (enabled: boolean, value: number) => !enabled || (value > 0 && (value & (value - 1)) === 0),
  error: { message: 'must be a power of two' },
});
ajv.addFormat('host-port', isHostPort);
const validate = ajv.compile(configSchema);

const unescape = (p: string): string => p.replace(/~1/g, '/').replace(/~0/g, '~');

/** `/sinks/kafka/brokers/1` → `sinks.kafka.brokers[1]` */
export function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map(unescape)
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[unescape(part)];
  }
  return cur;
}

const MAX_VALUE_CHARS = 80;

/** The bad value as it appears in messages: JSON, shortened when long. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 3)}...` : text;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diag + cost);
      diag = above;
    }
  }
  return row[b.length] as number;
}

/** The known sibling closest to a misspelt key, if it is close enough to be a typo. */
function suggestion(unknown: string, parentSchema: unknown): string | undefined {
  const props = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (props === undefined) return undefined;
  let best: { key: string; d: number } | undefined;
  for (const key of Object.keys(props)) {
    const d = editDistance(unknown, key);
    if (best === undefined || d < best.d) best = { key, d };
  }
  return best !== undefined && best.d <= Math.max(1, Math.floor(unknown.length / 4)) ? best.key : undefined;
}

function describeError(err: ErrorObject, root: unknown): { key: string; text: string } {
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty);
    const pointer = `${err.instancePath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const hint = suggestion(name, err.parentSchema);
    const text = `unknown key (value ${showValue(valueAt(root, pointer))})${hint === undefined ? '' : `; did you mean "${hint}"?`}`;
    return { key: keyPath(pointer), text };
  }
  if (err.keyword === 'required') {
    return { key: keyPath(`${err.instancePath}/${String(params.missingProperty)}`), text: 'is required' };
  }
  const key = keyPath(err.instancePath) || '(root)';
  const value = showValue(valueAt(root, err.instancePath));
  if (err.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return { key, text: `${value} is not one of ${allowed}` };
  }
  if (err.keyword === 'format' && params.format === 'host-port')
    return { key, text: `${value} is not host:port` };
  if (err.keyword === 'uniqueItems') {
    const items = valueAt(root, err.instancePath) as unknown[];
    return { key, text: `${value} lists ${showValue(items[Number(params.i)])} more than once` };
  }
  return { key, text: `${value} ${err.message ?? 'is invalid'}` };
}

function originOf(key: string, overrides: readonly ConfigOverride[]): string | undefined {
  // The last override that wrote this key (or a parent of it) is the one that counts.
  for (let i = overrides.length - 1; i >= 0; i--) {
    const o = overrides[i] as ConfigOverride;
    if (key === o.key || key.startsWith(`${o.key}.`) || key.startsWith(`${o.key}[`)) return o.origin;
  }
  return undefined;
}

/**
 * Validates a raw configuration object (defaults are filled in place) and returns it typed.
 * Every problem is reported at once, each naming the key path and the bad value; a value that came
 * from an override names its origin (`(from PODTRACE_KAFKA_BROKERS)`).
 */
export function validateConfig(raw: unknown, overrides: readonly ConfigOverride[] = []): PodtraceConfig {
  const doc: unknown = raw ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`(root): ${showValue(doc)} must be a mapping of sections`);
  }
  if (!validate(doc)) {
    const problems: string[] = [];
    for (const err of validate.errors ?? []) {
      const { key, text } = describeError(err, doc);
      const origin = originOf(key, overrides);
      const line = `${key}: ${text}${origin === undefined ? '' : ` (from ${origin})`}`;
      if (!problems.includes(line)) problems.push(line);
    }
    throw new ConfigError(problems);
  }
  return doc as unknown as PodtraceConfig;
}

/** Parses YAML text; syntax errors name the file, line and column. */
export function parseConfigText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // prettyErrors adds a code excerpt after the first line; the first line has the line and column.
    throw new ConfigError(
      doc.errors.map((e) => `${file}: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`),
    );
  }
  return doc.toJS() ?? {};
}

/** Reads and parses a YAML config file without validating it. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
    throw new ConfigError(`config file ${file}: ${why}`);
  }
  return parseConfigText(text, file);
}

/**
 * The effective configuration: defaults, then the YAML file (or nothing: all defaults), then the
 * environment (see environment.ts), then `flags` (command-line values, highest precedence).
 * Throws a ConfigError listing every problem.
 */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  flags: readonly ConfigOverride[] = [],
): PodtraceConfig {
  const raw = file === undefined ? {} : readConfigFile(file);
  const overrides = [...environmentOverrides(env), ...flags];
  return validateConfig(applyOverrides(raw, overrides), overrides);
}
