import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { groupMessagesPerPartition } from './kafkajs-grouping';
import type { RecordEncoder } from './kafkajs-record';
import { leanRecordEncoder } from './kafkajs-record';

/** The kafkajs releases the overrides were checked against (same module paths and signatures). */
const SUPPORTED_VERSION = /^2\.2\./;
const MAIN = 'kafkajs';
const GROUPING_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition';
const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder';

export type KafkajsOverrides =
  'installed' | 'disabled' | 'already-loaded' | 'unsupported-version' | 'not-found';

/** `PODTRACE_KAFKAJS_OVERRIDES=off` keeps kafkajs's own internals (A/B runs, or to rule them out). */
export const OVERRIDES_ENV = 'PODTRACE_KAFKAJS_OVERRIDES';

/**
 * Two kafkajs internals on the producer's per-record path, replaced by versions that compute the
 * same result with far less allocation: the per-partition grouping of a send
 * (kafkajs-grouping.ts) and the Record encoder (kafkajs-record.ts). They are put in Node's module
 * cache under kafkajs's own module paths before kafkajs loads, so kafkajs requires them in place
 * of its own. Only for the kafkajs releases they were checked against; otherwise, or when kafkajs
 * was loaded already (required elsewhere first), kafkajs keeps its own: same bytes, more CPU.
 */
function install(): KafkajsOverrides {
  if (process.env[OVERRIDES_ENV] === 'off') return 'disabled';
  const load = createRequire(__filename);
  let main: string;
  let version: unknown;
  try {
    main = load.resolve(MAIN);
    const manifest = readFileSync(load.resolve('kafkajs/package.json'), 'utf8');
    version = (JSON.parse(manifest) as { version?: unknown }).version;
  } catch {
    return 'not-found';
  }
  if (typeof version !== 'string' || !SUPPORTED_VERSION.test(version)) return 'unsupported-version';
  const cache = require.cache;
  const grouping = load.resolve(GROUPING_MODULE);
  if (cache[grouping]?.exports === groupMessagesPerPartition) return 'installed';
  const record = load.resolve(RECORD_MODULE);
  if (cache[main] !== undefined || cache[grouping] !== undefined || cache[record] !== undefined)
    return 'already-loaded';
  // kafkajs's own record encoder stays for records the lean one does not write (headers).
  const fallback = load(record) as RecordEncoder;
  const encoder = load(ENCODER_MODULE) as { prototype: object };
  preload(record, leanRecordEncoder(fallback, encoder.prototype));
  preload(grouping, groupMessagesPerPartition);
  return 'installed';
}

function preload(path: string, exports: unknown): void {
  const m = new Module(path, module);
  m.filename = path;
  m.exports = exports;
  m.loaded = true;
  require.cache[path] = m;
}

let outcome: KafkajsOverrides | null = null;

/** Installs the overrides once (src/sinks/kafka/kafkajs.ts imports this module before kafkajs). */
export function installKafkajsOverrides(): KafkajsOverrides {
  outcome ??= install();
  return outcome;
}

export const kafkajsOverrides: KafkajsOverrides = installKafkajsOverrides();
