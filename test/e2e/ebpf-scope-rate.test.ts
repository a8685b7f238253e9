import { statSync } from 'node:fs';
import { mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;
const missing = missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null);

function cgroupId(dir: string): number {
  return statSync(dir).ino;
}

/** Counts the raw events per cgroup the source hands on, before any user-space filter. */
function tap(source: EbpfSource): PodtraceEvent[] {
  const seen: PodtraceEvent[] = [];
  source.batches$.subscribe((b) => seen.push(...b.events));
  return seen;
}

describeIf(missing)('in-kernel scope (real kernel)', () => {
  const sink = new CollectingSink();
  let pipeline: Pipeline;
  let source: EbpfSource;
  let raw: PodtraceEvent[];
  const dir = join(base as string, `podtrace-e2e-host-${process.pid}.slice`);

  beforeAll(async () => {
    mkdirSync(dir);
    const config = validateConfig({
      source: { ebpf: { probes: ['process'] } },
      enrich: { cri: { enabled: false }, kubernetes: { enabled: false } },
      filter: { includeHost: false },
    });
    const metrics = new Metrics();
    source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
    raw = tap(source);
    const enricher = new PodEnricher(config.enrich, config.filter, {
      logger: silentLogger(),
      metrics,
      nodeName: 'n',
      kernelScope: source.scope,
    });
    pipeline = new Pipeline(source, enricher, [sink], silentLogger());
    await pipeline.start();
  });

  afterAll(async () => {
    await pipeline.shutdown();
    try {
      rmdirSync(dir);
    } catch {
      // busy
    }
  });

  function execsIn(n: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const cgroups = new PodCgroups(base as string);
      const child = cgroups.spawnIn(
        { dir, podUid: '', containerId: '' },
        `for i in $(seq ${n}); do /bin/true; done`,
      );
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
  }

  it('drops an excluded cgroup in the kernel once resolved: no records, the scope counter shows them', async () => {
    const id = cgroupId(dir);
    expect(source.scope.mode).toBe('deny');
    await execsIn(1); // the first exec makes the enricher resolve the cgroup (host: excluded)
    await waitFor(
      () => (source.scope.listed().includes(id) ? true : undefined),
      'the cgroup in the kernel deny list',
    );
    // Records made before the deny entry took effect may still be in the ring or the pending
    // batches: count only once nothing more of this cgroup arrives.
    const count = (): number => raw.filter((e) => e.cgroupId === id).length;
    let before = count();
    for (let stable = 0; stable < 3;) {
      await new Promise((r) => setTimeout(r, 100));
      const now = count();
      stable = now === before ? stable + 1 : 0;
      before = now;
    }
    const scopedBefore = source.kernelDrops().scoped['process.exec'] ?? 0;
    await execsIn(20);
    await new Promise((r) => setTimeout(r, 300));
    expect(count()).toBe(before);
    expect((source.kernelDrops().scoped['process.exec'] ?? 0) - scopedBefore).toBeGreaterThanOrEqual(20);
    expect(sink.events.some((e) => e.cgroupId === id)).toBe(false);
  });
});

describeIf(missing)('rate limit (real kernel)', () => {
  const cgroups = new PodCgroups(base as string);
  let source: EbpfSource;
  let raw: PodtraceEvent[];
  let server: Server;
  const RATE = 20;
  const CONNECTS = 300;

  beforeAll(async () => {
    server = createServer((s) => s.on('error', () => undefined).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const config = validateConfig({
      source: {
        ebpf: {
          probes: ['tcp'],
          rateLimit: { eventsPerSecondPerCgroup: 1000, perKind: { 'tcp.connect': RATE } },
        },
      },
    });
    source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics: new Metrics() });
    raw = tap(source);
    await source.start();
  });

  afterAll(async () => {
    await source.shutdown();
    await cgroups.cleanup();
    server.close();
  });

  it('caps a connect storm from one cgroup at the per-kind rate and counts what it refused', async () => {
    const pod = cgroups.make();
    const id = cgroupId(pod.dir);
    const port = (server.address() as { port: number }).port;
    const script = join(mkdtempSync(join(tmpdir(), 'podtrace-storm-')), 'storm.js');
    writeFileSync(
      script,
      `const net = require('net'); let left = ${CONNECTS};\n` +
        `const next = () => { if (left-- <= 0) return; const s = net.connect(${port}, '127.0.0.1');` +
        ` s.on('connect', () => { s.destroy(); next(); }); s.on('error', next); };\n` +
        `for (let i = 0; i < 4; i++) next();\n`,
    );
    const limitedBefore = source.kernelDrops().rateLimited['tcp.connect'] ?? 0;
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) =>
      cgroups.spawnIn(pod, `exec ${process.execPath} ${script}`).on('exit', (c) => resolve(c)),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const admitted = raw.filter((e) => e.kind === EventKind.TcpConnect && e.cgroupId === id).length;
    const limited = (source.kernelDrops().rateLimited['tcp.connect'] ?? 0) - limitedBefore;
    // A bucket of one second's worth, refilled at RATE/s: never more than that reached the ring.
    expect(admitted).toBeGreaterThan(0);
    expect(admitted).toBeLessThanOrEqual(RATE + Math.ceil(RATE * seconds) + 1);
    // Every connect of the storm was either recorded or counted as refused.
    expect(admitted + limited).toBeGreaterThanOrEqual(CONNECTS);
    // The other kinds have their own (larger) bucket: the closes of the storm were not refused.
    expect(raw.filter((e) => e.kind === EventKind.TcpClose && e.cgroupId === id).length).toBeGreaterThan(
      admitted,
    );
  });
});
