import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../src/config/schema';
import { schemaKeys } from '../../src/config/schema-keys';
import { loadConfig } from '../../src/config/load-config';

const FILE = join(__dirname, '..', '..', 'config', 'podtrace.yaml');

function has(doc: unknown, path: string): boolean {
  let cur = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) return false;
    cur = (cur as Record<string, unknown>)[part];
  }
  return true;
}

/** The YAML to paste for missing keys, so the failure says exactly what to add. */
function snippet(paths: { path: string; default: unknown }[]): string {
  return paths.map((k) => `${k.path}: ${stringify(k.default ?? null).trim()}`).join('\n');
}

describe('config/podtrace.yaml', () => {
  const text = readFileSync(FILE, 'utf8');
  const doc: unknown = parse(text);
  const keys = schemaKeys(configSchema);

  describe('.keys', () => {
    it('lists every schema key that has a default', () => {
      const missing = keys.filter((k) => k.hasDefault && !has(doc, k.path));
      expect(snippet(missing)).toBe('');
    });

    it('shows every key without a default as a commented example', () => {
      const missing = keys.filter(
        (k) => !k.hasDefault && !new RegExp(`^\\s*#\\s*${k.path.split('.').pop()}:`, 'm').test(text),
      );
      expect(missing.map((k) => k.path)).toEqual([]);
    });

    it('derives at least the sections this file documents today', () => {
      // Guards the walk itself: if schemaKeys returned nothing the two tests above would pass vacuously.
      expect(keys.map((k) => k.path)).toEqual(
        expect.arrayContaining(['nodeName', 'source.ebpf.probes', 'telemetry.listen', 'shutdown.timeoutMs']),
      );
    });
  });

  describe('.values', () => {
    it('holds exactly the built-in defaults, so reading it changes nothing', () => {
      expect(loadConfig(FILE, {})).toEqual(loadConfig(undefined, {}));
    });
  });
});
