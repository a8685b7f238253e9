import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { EventKind } from '../../src/events/event-kind';
import { Pipeline } from '../../src/pipeline/pipeline';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { CollectingSink } from '../helpers/collecting-sink';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroup } from '../helpers/pod-cgroup';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;
const MAX = 256;

/** Polls an async condition (waitFor takes a synchronous one). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function evictions(metrics: Metrics, cache: string, reason: string): Promise<number> {
  const m = await metrics.cacheEvictions.get();
  return m.values.find((v) => v.labels.cache === cache && v.labels.reason === reason)?.value ?? 0;
}

/**
 * The enricher's cgroup caches under churn, fed by the kernel's cgroup_mkdir / cgroup_rmdir: an
 * rmdir evicts at once (path and workload entry), and `enrich.maxCgroups` bounds both caches
 * (least recently used leave first), every eviction counted.
 */
describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'enricher cgroup caches under real cgroup churn',
  () => {
    const sink = new CollectingSink();
    const metrics = new Metrics();
    let pipeline: Pipeline;
    let source: EbpfSource;
    let enricher: PodEnricher;
    const root = `/podtrace-churn-${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      mkdirSync(join(base as string, root));
      const config = validateConfig({
        source: { ebpf: { probes: ['process'] } },
        enrich: { maxCgroups: MAX, cri: { enabled: false }, kubernetes: { enabled: false } },
      });
      source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
      enricher = new PodEnricher(config.enrich, config.filter, {
        logger: silentLogger(),
        metrics,
        nodeName: 'n',
      });
      pipeline = new Pipeline(source, enricher, [sink], silentLogger());
      await pipeline.start();
      expect(source.hooks.filter((h) => h.group === 'cgroup' && h.attached)).toHaveLength(2);
    });

    afterAll(async () => {
      await pipeline?.shutdown();
      try {
        rmdirSync(join(base as string, root));
      } catch {
        // best effort
      }
    });

    it('evicts a container cgroup from both caches when the kernel removes it', async () => {
      const pod = new PodCgroup(base as string, `${root}/evict`);
      const c = pod.container();
      const marker = `evict-${randomBytes(4).toString('hex')}`;
      const child = pod.spawnIn(c.path, `/bin/echo ${marker}`);
      await new Promise((r) => child.once('exit', r));
      const exec = await waitFor(
        () => sink.events.find((e) => e.kind === EventKind.ProcessExec && e.args.includes(marker)),
        'the exec in the container',
      );
      expect(exec.meta?.attributes['container.id']).toBe(c.id);
      expect(enricher.resolver?.cached(c.cgroupId)).toBe(c.path);
      const entriesBefore = await evictions(metrics, 'cgroup_entries', 'rmdir');
      // The exit of the process is the cgroup's last event; then the runtime removes it.
      await waitFor(
        () => sink.events.find((e) => e.kind === EventKind.ProcessExit && e.cgroupId === c.cgroupId),
        'the exit in the container',
      );
      pod.remove();
      await waitFor(
        () => (enricher.resolver?.cached(c.cgroupId) === null ? true : undefined),
        'the path to be evicted by rmdir',
      );
      await until(
        async () => (await evictions(metrics, 'cgroup_entries', 'rmdir')) > entriesBefore,
        'the entry to be evicted by rmdir',
      );
    });

    it('holds enrich.maxCgroups through 10,000 short-lived cgroups and counts what leaves', async () => {
      const dir = join(base as string, root, 'churn');
      mkdirSync(dir);
      const lruBefore0 = await evictions(metrics, 'cgroup_paths', 'lru');
      const entryLruBefore = await evictions(metrics, 'cgroup_entries', 'lru');
      const before = source.decodeStats().perKind['cgroup.rmdir'] ?? 0;
      const ids: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        mkdirSync(join(dir, `c${i}`));
        ids.push(statSync(join(dir, `c${i}`)).ino);
        rmdirSync(join(dir, `c${i}`));
      }
      await waitFor(
        () => ((source.decodeStats().perKind['cgroup.rmdir'] ?? 0) - before >= 10_000 ? true : undefined),
        'the 10,000 rmdir records',
        30_000,
      );
      await new Promise((r) => setTimeout(r, 100)); // the enricher takes the last batch synchronously
      // Created and removed: none stays cached, and none pushed a live entry out.
      expect(ids.filter((id) => enricher.resolver?.cached(id) !== null)).toEqual([]);
      expect(await evictions(metrics, 'cgroup_paths', 'lru')).toBe(lruBefore0);
      expect(await evictions(metrics, 'cgroup_entries', 'lru')).toBe(entryLruBefore);
      expect(enricher.resolver?.size).toBeLessThanOrEqual(MAX);

      // Long-lived ones beyond the bound: least recently used leave, counted as lru.
      const lruBefore = await evictions(metrics, 'cgroup_paths', 'lru');
      for (let i = 0; i < 2 * MAX; i++) mkdirSync(join(dir, `k${i}`));
      await until(
        async () => (await evictions(metrics, 'cgroup_paths', 'lru')) - lruBefore >= MAX,
        'lru evictions past enrich.maxCgroups',
        30_000,
      );
      expect(enricher.resolver?.size).toBeLessThanOrEqual(MAX);
      expect(enricher.cachedCgroups).toBeLessThanOrEqual(MAX);
      for (let i = 0; i < 2 * MAX; i++) rmdirSync(join(dir, `k${i}`));
      rmdirSync(dir);
      // Nothing was lost in the kernel on the way: the records are what the caches saw.
      expect(source.kernelLosses()['cgroup.mkdir']).toBe(0);
      expect(source.kernelLosses()['cgroup.rmdir']).toBe(0);
    }, 120_000);
  },
);
