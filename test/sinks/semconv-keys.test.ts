/**
 * Every key podtrace emits — OTLP span, span-event and resource attributes, OTLP log-record
 * attributes, Kafka JSON record keys — is a name of the installed @opentelemetry/semantic-conventions
 * (stable or incubating, not deprecated) or in podtrace's own `podtrace.*` namespace.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as stable from '@opentelemetry/semantic-conventions';
import { buildWorkloadMeta, hostMeta } from '../../src/enrich/meta/workload-meta-builder';
import type { PodtraceEvent } from '../../src/events/event';
import type { WorkloadMeta } from '../../src/events/workload-meta';
import { KafkaJsonEncoder } from '../../src/sinks/kafka/kafka-json-encoder';
import { SEMCONV_VERSION } from '../../src/sinks/spans/semconv-schema';
import type { LogRecordData } from '../../src/sinks/spans/log-model';
import { SpanMapper } from '../../src/sinks/spans/span-mapper';
import type { SpanData } from '../../src/sinks/spans/span-model';
import { SpanResources } from '../../src/sinks/spans/span-resources';
import {
  TEST_BOOT_ID,
  batch,
  oomKill,
  processExec,
  processExit,
  processFork,
  tcpAccept,
  tcpClose,
  tcpConnect,
  tcpRetransmit,
} from '../helpers/events';

/** The package's dist directory (its exports map hides package.json). */
const DIST = dirname(require.resolve('@opentelemetry/semantic-conventions'));
/**
 * The incubating entry point, loaded by the package's export (the repository's `node`
 * moduleResolution cannot type subpath exports; the names are read at run time anyway).
 */
const incubating = createRequire(__filename)('@opentelemetry/semantic-conventions/incubating') as Record<
  string,
  unknown
>;

/** Attribute names (and `prefix.` of template attributes such as k8s.pod.label.<key>) of the package. */
function registry(): { names: Set<string>; prefixes: string[] } {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const mod of [stable, incubating] as Record<string, unknown>[]) {
    for (const [exported, value] of Object.entries(mod)) {
      if (!exported.startsWith('ATTR_')) continue;
      if (typeof value === 'string') names.add(value);
      else if (typeof value === 'function') prefixes.push(String((value as (k: string) => string)('')));
    }
  }
  return { names, prefixes };
}

/** Names whose declaration carries `@deprecated` in the package's type declarations. */
function deprecatedNames(): Set<string> {
  const out = new Set<string>();
  const decl = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*declare const ATTR_\w+: "([^"]+)";/g;
  for (const file of ['stable_attributes.d.cts', 'experimental_attributes.d.cts']) {
    const text = readFileSync(join(DIST, file), 'utf8');
    for (const m of text.matchAll(decl)) if (m[1]!.includes('@deprecated')) out.add(m[2]!);
  }
  return out;
}

/**
 * Record-envelope columns of the Kafka JSON layout (config/schemas/kafka-event.schema.json), not
 * attributes: times as OTLP names them, the per-node sequence, and `event.name`, the deprecated
 * attribute kept as a column for existing data-lake tables next to `event_name`.
 */
const KAFKA_ENVELOPE = new Set(['event.name', 'event_name', 'time_unix_nano', 'duration_ns', 'event.seq']);

const SEC = 1_000_000_000;
const NODE = 'node-a';

function containerMetas(): WorkloadMeta[] {
  const facts = {
    containerId: 'c'.repeat(64),
    containerName: 'app',
    image: 'registry.example/app:1.2',
    runtime: 'containerd',
    podUid: '0b6c5f3e-1d2a-4c3b-9e8f-000000000001',
    podName: 'app-7d9f-x2x',
    namespace: 'shop',
    labels: { app: 'app', tier: 'web' },
    annotations: {},
  };
  const owners = [
    { kind: 'ReplicaSet', name: 'app-7d9f', parent: { kind: 'Deployment', name: 'app' } },
    { kind: 'Job', name: 'report-123', parent: { kind: 'CronJob', name: 'report' } },
    { kind: 'StatefulSet', name: 'db', parent: null },
    { kind: 'DaemonSet', name: 'agent', parent: null },
  ];
  return owners.map((o) =>
    buildWorkloadMeta(
      { ...facts, owner: { kind: o.kind, name: o.name } },
      { nodeName: NODE, copyLabels: ['app', 'tier'], lookupParent: () => o.parent },
    ),
  );
}

/** Every event kind, every optional attribute (errors, signals, truncated args), for one meta. */
function everyEvent(meta: WorkloadMeta | null, pid: number): PodtraceEvent[] {
  const p = { pid, procStartNs: 10 * SEC, meta, comm: 'app' };
  const exec = processExec({ ...p, at: 10 * SEC + 1, ppid: 1, parentStartNs: 0 });
  exec.argsTruncated = true;
  return [
    exec,
    processFork({ ...p, at: 10 * SEC + 2, childPid: pid + 1, childStartNs: 10 * SEC + 3 }),
    tcpConnect({ ...p, at: 11 * SEC, error: 'ECONNREFUSED' }),
    tcpConnect({ ...p, at: 11 * SEC + 1, family: 6, localAddr: '::1', remoteAddr: '::1' }),
    tcpAccept({ ...p, at: 12 * SEC }),
    tcpClose({ ...p, at: 13 * SEC }),
    tcpRetransmit({ ...p, at: 14 * SEC }),
    tcpRetransmit({ pid: 0, procStartNs: 0, at: 14 * SEC + 1, meta }),
    oomKill({ ...p, at: 15 * SEC, victimPid: pid + 1, victimComm: 'java' }),
    processExit({ pid: pid + 1, procStartNs: 10 * SEC + 3, meta, at: 16 * SEC, signal: 9, exitCode: null }),
    processExit({ ...p, at: 17 * SEC, exitCode: 3 }),
  ];
}

function emittedKeys(): Map<string, Set<string>> {
  const where = new Map<string, Set<string>>();
  const add = (key: string, from: string): void => {
    let set = where.get(key);
    if (set === undefined) where.set(key, (set = new Set()));
    set.add(from);
  };
  const metas: (WorkloadMeta | null)[] = [...containerMetas(), hostMeta(NODE), null];
  const events = metas.flatMap((m, i) => everyEvent(m, 100 + i * 10));
  const mapper = new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'node-a.example', nodeName: NODE, instanceId: 'run-1' }),
  });
  const spans: SpanData[] = [];
  const logs: LogRecordData[] = [];
  mapper.map(batch(...events), { spans, logs });
  for (const s of spans) {
    for (const k of Object.keys(s.resource.attributes)) add(k, 'otlp resource');
    for (const k of Object.keys(s.attributes)) add(k, `otlp span ${s.name}`);
    for (const e of s.events ?? [])
      for (const k of Object.keys(e.attributes ?? {})) add(k, 'otlp span event');
    for (const l of s.links ?? []) for (const k of Object.keys(l.attributes ?? {})) add(k, 'otlp span link');
  }
  for (const r of logs) {
    for (const k of Object.keys(r.resource.attributes)) add(k, 'otlp resource');
    for (const k of Object.keys(r.attributes)) add(k, `otlp log ${r.eventName}`);
  }
  const json = new KafkaJsonEncoder(NODE);
  events.forEach((e, i) => {
    for (const k of Object.keys(JSON.parse(json.encode(e, i + 1)) as object))
      if (!KAFKA_ENVELOPE.has(k)) add(k, `kafka json ${e.kind}`);
  });
  expect(spans.length).toBeGreaterThan(0);
  expect(logs).toHaveLength(events.length);
  return where;
}

describe('emitted attribute names', () => {
  const { names, prefixes } = registry();
  const deprecated = deprecatedNames();

  it('reads the semantic-conventions registry it checks against (and its deprecations)', () => {
    // The check below is only as good as these sets: a broken parse must fail, not pass everything.
    expect(names.size).toBeGreaterThan(500);
    expect(names.has('k8s.pod.name')).toBe(true);
    expect(prefixes).toContain('k8s.pod.label.');
    expect(deprecated.has('container.runtime')).toBe(true);
    expect(deprecated.has('event.name')).toBe(true);
    expect(deprecated.has('container.runtime.name')).toBe(false);
  });

  it('are semantic-convention names (stable or incubating, none deprecated) or podtrace.*', () => {
    const problems: string[] = [];
    for (const [key, from] of emittedKeys()) {
      const where = [...from].join(', ');
      if (key.startsWith('podtrace.')) continue;
      if (deprecated.has(key)) problems.push(`${key} is deprecated (${where})`);
      else if (!names.has(key) && !prefixes.some((p) => key.startsWith(p) && key.length > p.length))
        problems.push(`${key} is not in @opentelemetry/semantic-conventions (${where})`);
    }
    expect(problems).toEqual([]);
  });

  it('follow the semantic-conventions version the schema_url names', () => {
    // The package links the spec version it was generated from; SEMCONV_VERSION must be that one.
    const text = readFileSync(join(DIST, 'experimental_attributes.d.cts'), 'utf8');
    const versions = new Set(
      [...text.matchAll(/semantic-conventions\/blob\/v(\d+\.\d+\.\d+)\//g)].map((m) => m[1]),
    );
    expect([...versions]).toEqual([SEMCONV_VERSION]);
  });
});
