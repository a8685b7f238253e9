import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Checks Kubernetes objects against the API types that @kubernetes/client-node generates from the
 * OpenAPI spec: every field must exist in its type (catches `readOnlyRootFilesytem`), and booleans,
 * numbers, strings, lists and maps must have the right shape. The package is ESM-only, which jest's
 * CommonJS runtime cannot import, so the generated `attributeTypeMap` tables are read as data.
 */
const MODELS = join(
  dirname(require.resolve('@kubernetes/client-node/package.json')),
  'dist',
  'gen',
  'models',
);

interface Attribute {
  baseName: string;
  type: string;
}

const cache = new Map<string, Attribute[]>();

function attributes(type: string): Attribute[] {
  let attrs = cache.get(type);
  if (attrs === undefined) {
    const text = readFileSync(join(MODELS, `${type}.js`), 'utf8');
    const m = new RegExp(`${type}\\.attributeTypeMap = (\\[[\\s\\S]*?\\n\\]);`).exec(text);
    if (m === null) throw new Error(`no attributeTypeMap in ${type}.js`);
    attrs = JSON.parse(m[1]!) as Attribute[];
    cache.set(type, attrs);
  }
  return attrs;
}

function check(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined || type === 'any' || type === 'Date') return;
  const list = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  const bad = (what: string): void => void problems.push(`${path}: ${JSON.stringify(value)} is not ${what}`);
  if (list !== null) {
    if (!Array.isArray(value)) return bad(`a list (${type})`);
    value.forEach((v, i) => check(v, list[1]!, `${path}[${i}]`, problems));
  } else if (map !== null) {
    if (typeof value !== 'object' || Array.isArray(value)) return bad(`a map (${type})`);
    for (const [k, v] of Object.entries(value)) check(v, map[1]!, `${path}.${k}`, problems);
  } else if (type === 'string') {
    if (typeof value !== 'string') bad('a string');
  } else if (type === 'number') {
    if (typeof value !== 'number') bad('a number');
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') bad('a boolean');
  } else if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') bad('an int or a string');
  } else {
    if (typeof value !== 'object' || Array.isArray(value)) return bad(`an object (${type})`);
    const attrs = attributes(type);
    for (const [k, v] of Object.entries(value)) {
      const attr = attrs.find((a) => a.baseName === k);
      if (attr === undefined) problems.push(`${path}.${k}: unknown field of ${type}`);
      else check(v, attr.type, `${path}.${k}`, problems);
    }
  }
}

/** Problems of one object (`kind: DaemonSet` is checked as V1DaemonSet); empty when it conforms. */
export function k8sSchemaProblems(object: { kind?: unknown } & Record<string, unknown>): string[] {
  const problems: string[] = [];
  check(object, `V1${String(object.kind)}`, String(object.kind), problems);
  return problems;
}
