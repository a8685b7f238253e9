import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors';
import { configSchema } from './schema';
import type { PodtraceConfig } from './config';
import { applyEnvironment } from './environment';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
ajv.addKeyword({
  keyword: 'powerOfTwo',
  type: 'integer',
  schemaType: 'boolean',
  validate: (enabled: boolean, value: number) => !enabled || (value > 0 && (value & (value - 1)) === 0),
  error: { message: 'must be a power of two' },
});
ajv.addFormat('host-port', /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):([1-9][0-9]{0,4})$/);
const validate = ajv.compile(configSchema);

/** `/sinks/kafka/brokers/1` → `sinks.kafka.brokers[1]` */
export function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function describe(err: ErrorObject, root: unknown): string {
  const params = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') {
    const key = keyPath(`${err.instancePath}/${String(params.additionalProperty)}`);
    return `${key}: unknown key`;
  }
  const key = keyPath(err.instancePath) || '(root)';
  const value = JSON.stringify(valueAt(root, err.instancePath));
  if (err.keyword === 'enum')
    return `${key}: ${value} is not one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (err.keyword === 'format' && params.format === 'host-port') return `${key}: ${value} is not host:port`;
  return `${key}: ${value} ${err.message ?? 'is invalid'}`;
}

/**
 * Validates a raw configuration object (defaults are filled in place) and returns it typed.
 * Every problem is reported at once, each naming the key path and the bad value.
 */
export function validateConfig(raw: unknown): PodtraceConfig {
  const doc: unknown = raw ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`(root): ${JSON.stringify(doc)} must be a mapping`);
  if (!validate(doc)) {
    const seen = new Set<string>();
    const problems = (validate.errors ?? [])
      .map((e) => describe(e, doc))
      .filter((p) => !seen.has(p) && seen.add(p));
    throw new ConfigError(problems);
  }
  return doc as unknown as PodtraceConfig;
}

/** Reads a YAML file (or nothing: all defaults), applies the environment, validates. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): PodtraceConfig {
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${errorMessage(err)}`);
    }
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `${file}: ${e.message}`));
    raw = doc.toJS() ?? {};
  }
  return validateConfig(applyEnvironment(raw, env));
}
