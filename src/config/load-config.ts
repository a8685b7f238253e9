import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors';
import { configSchema } from './schema';
import type { PodtraceConfig } from './config';
import { applyOverrides, environmentOverrides } from './environment';
import type { ConfigOverride } from './environment';
import { crossFieldProblems } from './config-checks';
import { MASK, isSecretPath, maskForMessage } from './mask-secrets';

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

/** YAML's names for the numbers JSON cannot write (JSON.stringify would print `null`). */
function yamlNumber(n: number): string {
  return Number.isNaN(n) ? '.nan' : n > 0 ? '.inf' : '-.inf';
}

/**
 * The bad value as it appears in messages: JSON (±.inf and .nan by their YAML names), shortened
 * when long. Mask secrets first (maskForMessage).
 */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'undefined';
  else if (value === MASK) text = MASK;
  else if (typeof value === 'number' && !Number.isFinite(value)) text = yamlNumber(value);
  else
    text = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? yamlNumber(v) : v,
    );
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 3)}...` : text;
}

const partsOf = (pointer: string): string[] => pointer.split('/').slice(1).map(unescape);

/** The value at `pointer` as it may be quoted in a message: secrets masked. */
function shownAt(root: unknown, pointer: string): string {
  return showValue(maskForMessage(valueAt(root, pointer), partsOf(pointer)));
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

function hasSecretSibling(parentSchema: unknown): boolean {
  const props = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props !== undefined && Object.keys(props).some((k) => isSecretPath([k]));
}

/** `oneOf: [{ required: [a] }, { required: [b] }]` → ['a', 'b'], else null. */
function exclusiveKeys(branches: unknown): string[] | null {
  if (!Array.isArray(branches)) return null;
  const keys: string[] = [];
  for (const b of branches as Array<{ required?: unknown }>) {
    const req = b.required;
    if (!Array.isArray(req) || req.length !== 1 || Object.keys(b).length !== 1) return null;
    keys.push(String(req[0]));
  }
  return keys;
}

function describeError(err: ErrorObject, root: unknown): { key: string; text: string } {
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty);
    const pointer = `${err.instancePath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const hint = suggestion(name, err.parentSchema);
    // A misspelt secret key ("pasword", "kye") is still a secret: an unknown key next to a
    // secret-named one is masked like it.
    const value = hasSecretSibling(err.parentSchema)
      ? showValue(maskForMessage(valueAt(root, pointer), ['key']))
      : shownAt(root, pointer);
    const text = `unknown key (value ${value})${hint === undefined ? '' : `; did you mean "${hint}"?`}`;
    return { key: keyPath(pointer), text };
  }
  if (err.keyword === 'required') {
    return { key: keyPath(`${err.instancePath}/${String(params.missingProperty)}`), text: 'is required' };
  }
  const key = keyPath(err.instancePath) || '(root)';
  const raw = valueAt(root, err.instancePath);
  if (typeof raw === 'number' && Number.isNaN(raw)) return { key, text: '.nan is not a number' };
  if (err.keyword === 'dependencies' || err.keyword === 'dependentRequired') {
    const missing = String(params.missingProperty);
    return { key, text: `sets ${String(params.property)} but not ${missing} (set both or neither)` };
  }
  const value = shownAt(root, err.instancePath);
  if (err.keyword === 'oneOf') {
    const keys = exclusiveKeys(err.schema);
    if (keys !== null) {
      const here = valueAt(root, err.instancePath) as Record<string, unknown>;
      const set = keys.filter((k) => here[k] !== undefined);
      const has = set.length === 0 ? 'sets none' : `sets ${set.join(' and ')}`;
      return { key, text: `needs exactly one of ${keys.join(', ')} (${has})` };
    }
  }
  if (err.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return { key, text: `${value} is not one of ${allowed}` };
  }
  if (err.keyword === 'format' && params.format === 'host-port')
    return { key, text: `${value} is not host:port` };
  if (err.keyword === 'uniqueItems') {
    return {
      key,
      text: `${value} lists ${shownAt(root, `${err.instancePath}/${Number(params.i)}`)} more than once`,
    };
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
    const errors = validate.errors ?? [];
    // A oneOf is reported once, in its own words, not with each branch's failures.
    const oneOfs = errors.filter((e) => e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
    for (const err of errors) {
      if (oneOfs.some((prefix) => err.schemaPath.startsWith(prefix))) continue;
      const { key, text } = describeError(err, doc);
      const origin = originOf(key, overrides);
      const line = `${key}: ${text}${origin === undefined ? '' : ` (from ${origin})`}`;
      if (!problems.includes(line)) problems.push(line);
    }
    throw new ConfigError(problems);
  }
  const config = doc as unknown as PodtraceConfig;
  const problems = crossFieldProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The first line of a YAML error (prettyErrors adds an excerpt of the source, which may hold a secret). */
const firstLine = (message: string): string => (message.split('\n')[0] ?? '').replace(/:$/, '');

/** Parses YAML text; syntax errors name the file, line and column; alias cycles name the key. */
export function parseConfigText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}: ${firstLine(e.message)}`));
  }
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (err) {
    // Unresolved aliases, alias bombs (more aliases than yaml's maxAliasCount).
    throw new ConfigError(`${file}: ${firstLine(errorMessage(err))}`);
  }
  const cycle = aliasCycle(js);
  if (cycle !== null)
    throw new ConfigError(
      `${cycle || '(root)'}: a YAML alias refers to a node that contains it (an alias cycle)`,
    );
  return js ?? {};
}

/** The key path of the first value that contains itself (through a YAML alias), else null. */
function aliasCycle(value: unknown): string | null {
  const ancestors = new Set<object>();
  const visit = (v: unknown, path: string): string | null => {
    if (v === null || typeof v !== 'object') return null;
    if (ancestors.has(v)) return path;
    ancestors.add(v);
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [`${path}[${i}]`, x])
      : Object.entries(v).map(([k, x]) => [path ? `${path}.${k}` : k, x]);
    for (const [p, x] of entries) {
      const found = visit(x, p);
      if (found !== null) return found;
    }
    ancestors.delete(v);
    return null;
  };
  return visit(value, '');
}

/** Reads and parses a YAML config file without validating it; the file must be UTF-8. */
export function readConfigFile(file: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'permission denied' : errorMessage(err);
    throw new ConfigError(`config file ${file}: ${why}`);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return parseConfigText(bytes.toString('utf8'), file);
  // Name the key whose key or value holds the bad bytes (decoded as U+FFFD), else the line.
  const line = bytes.subarray(0, bad).toString('latin1').split('\n').length;
  const where = `byte ${bad}, line ${line}`;
  let key: string | null;
  try {
    key = keyWithReplacementChar(parseConfigText(bytes.toString('utf8'), file));
  } catch {
    key = null; // the file does not parse either: name the byte and line alone
  }
  throw new ConfigError(
    key === null
      ? `${file}: ${where} is not valid UTF-8`
      : `${key}: not valid UTF-8 (${file}, ${where}); save the file as UTF-8`,
  );
}

/** The offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function firstInvalidUtf8(b: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(b);
    return -1;
  } catch {
    // Find the offset: the longest prefix that decodes, trimmed to a character boundary.
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      let ok = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, mid), { stream: true });
      } catch {
        ok = false;
      }
      if (ok) lo = mid;
      else hi = mid - 1;
    }
    // A streamed prefix may end inside a sequence that the next byte breaks: report its lead byte.
    for (let i = Math.max(0, lo - 3); i < lo; i++) {
      const lead = b[i] as number;
      const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (len > 1 && i + len > lo) return i;
    }
    return lo;
  }
}

function keyWithReplacementChar(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\uFFFD') ? path || '(root)' : null;
  if (value === null || typeof value !== 'object') return null;
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((x, i) => [`${path}[${i}]`, x])
    : Object.entries(value).map(([k, x]) => [path ? `${path}.${k}` : k, x]);
  for (const [p, x] of entries) {
    if (p.includes('\uFFFD')) return p;
    const found = keyWithReplacementChar(x, p);
    if (found !== null) return found;
  }
  return null;
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
