import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { cgroupPathOf } from '../../src/enrich/cgroup/cgroup-path-resolver';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import type { PodtraceEvent } from '../../src/events/event';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { TestContainerd, containerdMissing } from '../helpers/containerd';
import { missingBpf, waitFor } from '../helpers/kernel';
import { ClosingListener } from '../helpers/closing-listener';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;
const NODE = 'node-scope';

/** The cgroup2 id (directory inode) of a running process's cgroup. */
function cgroupIdOf(pid: number): number {
  const path = cgroupPathOf(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), 0);
  if (path === null) throw new Error(`no cgroup2 line for pid ${pid}`);
  return statSync(join(base as string, path)).ino;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/**
 * The in-kernel scope maintained through the CRI: two real containerd pods run the same busy loop
 * (subshell forks and TCP connects); the one in a namespace excluded by filter.excludeNamespaces
 * (or left out of filter.namespaces) is
 * put in the kernel's deny list by the enricher once the CRI names its namespace, and from then on
 * produces no ring-buffer record at all (the kernel's scope counter grows instead), while the
 * allowed namespace's pod keeps arriving, attributed.
 */
const FILTERS: [string, Record<string, unknown>][] = [
  ['filter.excludeNamespaces', { excludeNamespaces: ['noisy'] }],
  ['filter.namespaces', { namespaces: ['shop'] }],
];

describeIf(missingBpf() ?? containerdMissing() ?? (base === undefined ? 'no cgroup2 mount' : null)).each(
  FILTERS,
)('in-kernel scope from the CRI with %s (real kernel, real containerd)', (_key, filter) => {
  const containerd = new TestContainerd();
  const sink = new CollectingSink();
  const raw: PodtraceEvent[] = [];
  const listener = new ClosingListener();
  let port = 0;
  let pipeline: Pipeline;
  let source: EbpfSource;

  beforeAll(async () => {
    port = (await listener.start()).port;
    await containerd.start();
    const config = validateConfig({
      nodeName: NODE,
      source: { ebpf: { probes: ['process', 'tcp'] } },
      enrich: { cri: { endpoint: containerd.endpoint, relistSeconds: 1 }, kubernetes: { enabled: false } },
      filter,
    });
    const metrics = new Metrics();
    source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
    source.batches$.subscribe((b) => raw.push(...b.events));
    const enricher = new PodEnricher(config.enrich, config.filter, {
      logger: silentLogger(),
      metrics,
      nodeName: NODE,
      kernelScope: source.scope,
    });
    pipeline = new Pipeline(source, enricher, [sink], silentLogger());
    await pipeline.start();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.shutdown();
    await containerd.stop();
    await listener.stop();
  }, 120_000);

  function busyPod(namespace: string): ReturnType<TestContainerd['runPod']> {
    const uid = randomUUID();
    return containerd.runPod({
      name: `loop-${namespace}`,
      namespace,
      uid,
      cgroupParent: `/kubepods/besteffort/pod${uid}`,
      container: {
        name: 'loop',
        command: ['/bin/sh', '-c', `while true; do (true); echo hi | nc 127.0.0.1 ${port}; sleep 0.1; done`],
      },
    });
  }

  it('records nothing of the excluded namespace once its deny entry is in place, and keeps the allowed one', async () => {
    expect(source.scope.mode).toBe('deny');
    const allowed = await busyPod('shop');
    const excluded = await busyPod('noisy');
    const allowedId = cgroupIdOf(allowed.pid);
    const excludedId = cgroupIdOf(excluded.pid);
    expect(excludedId).not.toBe(allowedId);

    // The enricher learns the namespace from the CRI and lists the excluded container's cgroup.
    await waitFor(
      () => (source.scope.listed().includes(excludedId) ? true : undefined),
      'the excluded container in the kernel deny list',
      30_000,
    );
    await waitFor(
      () =>
        sink.events.find(
          (e) => e.cgroupId === allowedId && e.meta?.attributes['k8s.namespace.name'] === 'shop',
        ),
      'an attributed event of the allowed pod',
      30_000,
    );
    expect(source.scope.listed()).not.toContain(allowedId);

    // Records made before the entry took effect may still be in the ring or the pending batches:
    // count only once nothing more of this cgroup arrives.
    const excludedCount = (): number => raw.filter((e) => e.cgroupId === excludedId).length;
    let settled = excludedCount();
    for (let stable = 0; stable < 5;) {
      await new Promise((r) => setTimeout(r, 200));
      const now = excludedCount();
      stable = now === settled ? stable + 1 : 0;
      settled = now;
    }
    const scopedBefore = sum(source.kernelDrops().scoped);
    const allowedBefore = raw.filter((e) => e.cgroupId === allowedId).length;

    // The loops keep running: the allowed pod's records keep arriving, the excluded one's are
    // refused in the kernel.
    await waitFor(
      () => (raw.filter((e) => e.cgroupId === allowedId).length >= allowedBefore + 20 ? true : undefined),
      'more records of the allowed pod',
      30_000,
    );
    await waitFor(
      () => (sum(source.kernelDrops().scoped) >= scopedBefore + 20 ? true : undefined),
      'the kernel scope counter to count the excluded pod',
      30_000,
    );
    expect(excludedCount()).toBe(settled);
    expect(sink.events.some((e) => e.cgroupId === excludedId)).toBe(false);
    expect(sink.events.some((e) => e.meta?.attributes['k8s.namespace.name'] === 'noisy')).toBe(false);
  }, 120_000);
});
