import { statSync } from 'node:fs';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import type { PodtraceEvent, SchedRunqueueEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { missingBpf, waitFor } from '../helpers/kernel';
import { PodCgroups } from '../helpers/pod-cgroups';
import type { PodCgroup } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;

/** Two busy loops pinned to one CPU inside the pod's cgroup for `ms`: each waits while the other runs. */
function contend(cgroups: PodCgroups, pod: PodCgroup, ms: number): Promise<void> {
  const spin = `timeout ${ms / 1000} taskset -c 0 sh -c 'while :; do :; done'`;
  return new Promise((resolve, reject) => {
    const child = cgroups.spawnIn(pod, `${spin} & ${spin} & wait`);
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

function runqueueOf(events: PodtraceEvent[], cgroupId: number): SchedRunqueueEvent[] {
  return events.filter(
    (e): e is SchedRunqueueEvent => e.kind === EventKind.SchedRunqueue && e.cgroupId === cgroupId,
  );
}

describeIf(missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null))(
  'sched.runqueue (real kernel)',
  () => {
    const cgroups = new PodCgroups(base as string);

    afterAll(async () => {
      await cgroups.cleanup();
    });

    async function startSource(
      intervalSeconds: number,
    ): Promise<{ source: EbpfSource; events: PodtraceEvent[] }> {
      const config = validateConfig({ source: { ebpf: { probes: ['sched'], sched: { intervalSeconds } } } });
      const source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics: new Metrics() });
      const events: PodtraceEvent[] = [];
      source.batches$.subscribe((b) => events.push(...b.events));
      await source.start();
      expect(source.hooks.filter((h) => h.group === 'sched' && h.attached).map((h) => h.hook)).toEqual([
        'tp_btf/sched_wakeup',
        'tp_btf/sched_wakeup_new',
        'tp_btf/sched_switch',
      ]);
      return { source, events };
    }

    it('emits one event per interval for a container under CPU contention, with count, p50 ≤ p99 ≤ max', async () => {
      const { source, events } = await startSource(1);
      try {
        const pod = cgroups.make();
        const id = statSync(pod.dir).ino;
        await contend(cgroups, pod, 1500);
        // The interval that covers the end of the contention has been emitted once one after it started.
        const end = Date.now();
        await waitFor(() => (Date.now() > end + 2100 ? true : undefined), 'two more intervals');
        const all = runqueueOf(events, id);
        expect(all.length).toBeGreaterThan(0);
        const e = all.reduce((a, b) => (b.maxNs > a.maxNs ? b : a));
        expect(e.pid).toBe(0);
        expect(e.count).toBeGreaterThan(0);
        expect(e.p50Ns).toBeGreaterThan(0);
        expect(e.p50Ns).toBeLessThanOrEqual(e.p99Ns);
        expect(e.p99Ns).toBeLessThanOrEqual(e.maxNs);
        // Two spinners on one CPU: the one waiting waits for (most of) a scheduler slice.
        expect(e.maxNs).toBeGreaterThan(100_000);
        expect(e.intervalNs).toBeGreaterThan(0);
        // At most one event per container per interval.
        const perInterval = new Map<number, number>();
        for (const x of runqueueOf(events, id))
          perInterval.set(x.bootNs, (perInterval.get(x.bootNs) ?? 0) + 1);
        expect([...perInterval.values()].every((n) => n === 1)).toBe(true);
      } finally {
        await source.shutdown();
      }
    });

    it('flushes the last, partial interval at shutdown', async () => {
      const { source, events } = await startSource(3600);
      const pod = cgroups.make();
      const id = statSync(pod.dir).ino;
      await contend(cgroups, pod, 500);
      expect(runqueueOf(events, id)).toEqual([]);
      await source.shutdown();
      const [e] = runqueueOf(events, id);
      expect(e?.count).toBeGreaterThan(0);
      expect(e?.intervalNs).toBeLessThan(3600e9);
    });
  },
);
