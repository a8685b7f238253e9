import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { loadConfig, validateConfig } from '../../src/config/load-config';
import { ConfigError } from '../../src/core/errors';
import { silentLogger } from '../../src/core/logger';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { SyntheticSource, kindSchedule } from '../../src/sources/synthetic-source';
import type { SyntheticSourceConfig } from '../../src/sources/synthetic-config';
import { syntheticWorkloads } from '../../src/sources/synthetic-workloads';
import { Metrics } from '../../src/telemetry/metrics';
import { EmissionLog, FakeSourceClock } from '../helpers/fake-source-clock';

function config(over: Partial<SyntheticSourceConfig> = {}): SyntheticSourceConfig {
  return { ...validateConfig({ source: { kind: 'synthetic' } }).source.synthetic, ...over };
}

async function runToEnd(source: SyntheticSource): Promise<PodtraceEvent[][]> {
  const all = lastValueFrom(source.batches$.pipe(toArray()));
  await source.start();
  return (await all).map((b) => b.events);
}

describe('SyntheticSource', () => {
  describe('.start', () => {
    it('produces exactly rate × duration events at the configured pacing on a fake clock', async () => {
      const clock = new FakeSourceClock();
      const source = new SyntheticSource(
        config({ eventsPerSecond: 10_000, durationSeconds: 2, tickMs: 5, batchEvents: 1000 }),
        { logger: silentLogger(), metrics: new Metrics(), clock, bootNsAtStart: () => 1e12 },
      );
      const emitted = new EmissionLog(source, clock);
      const batches = await runToEnd(source);
      expect(emitted.total).toBe(20_000);
      expect(source.produced).toBe(20_000);
      expect(source.lost).toBe(0);
      // Never ahead of schedule: by fake time t at most rate·t events have gone out.
      for (const s of emitted.seen) expect(s.total).toBeLessThanOrEqual(Math.floor((s.at * 10_000) / 1000));
      // It waited on the clock (in tick steps) rather than producing everything at once.
      expect(clock.sleeps.length).toBeGreaterThanOrEqual(2000 / 5 - 1);
      expect(clock.sleeps.every((ms) => ms === 5)).toBe(true);
      expect(clock.now()).toBeGreaterThanOrEqual(2000);
      expect(clock.now()).toBeLessThanOrEqual(2005);
      // Kernel timestamps follow the schedule: event k is stamped start + k/rate.
      const flat = batches.flat();
      expect(flat[0]!.bootNs).toBe(1e12);
      expect(flat[12_345]!.bootNs).toBe(1e12 + 12_345 * 100_000);
      expect(batches.every((b) => b.length <= 1000)).toBe(true);
    });

    it('respects the mix of kinds', async () => {
      const source = new SyntheticSource(
        config({
          eventsPerSecond: 50_000,
          durationSeconds: 1,
          mix: { 'process.exec': 1, 'tcp.connect': 3, 'oom.kill': 0 },
        }),
        { logger: silentLogger(), metrics: new Metrics(), clock: new FakeSourceClock() },
      );
      const events = (await runToEnd(source)).flat();
      expect(events).toHaveLength(50_000);
      const execs = events.filter((e) => e.kind === EventKind.ProcessExec).length;
      const connects = events.filter((e) => e.kind === EventKind.TcpConnect).length;
      expect(execs + connects).toBe(50_000);
      expect(Math.abs(execs - 12_500)).toBeLessThan(125);
      expect(Math.abs(connects - 37_500)).toBeLessThan(125);
    });

    it('spreads events over every container of every pod, each with its pod metadata', async () => {
      const source = new SyntheticSource(
        config({ eventsPerSecond: 10_000, durationSeconds: 0.5, pods: 7, containersPerPod: 3 }),
        { logger: silentLogger(), metrics: new Metrics(), clock: new FakeSourceClock(), nodeName: 'n1' },
      );
      const events = (await runToEnd(source)).flat();
      const cgroups = new Set(events.map((e) => e.cgroupId));
      expect(cgroups.size).toBe(21);
      const metas = [...cgroups].map((id) => source.workloads.metaByCgroup.get(id));
      expect(metas.every((m) => m !== undefined && Object.isFrozen(m))).toBe(true);
      expect(new Set(metas.map((m) => m!.podName)).size).toBe(7);
      expect(metas[0]!.attributes['k8s.node.name']).toBe('n1');
    });

    it('counts the events the emulated ring cannot hold when the pipeline lags', async () => {
      const clock = new FakeSourceClock();
      const metrics = new Metrics();
      const source = new SyntheticSource(
        config({
          eventsPerSecond: 100_000,
          durationSeconds: 1,
          ringBufferBytes: 64 * 1024,
          mix: { 'process.fork': 1 },
        }),
        { logger: silentLogger(), metrics, clock },
      );
      // The pipeline stalls for a whole second on its first batch.
      let first = 0;
      source.batches$.subscribe((b) => {
        if (first === 0) {
          first = b.events.length;
          clock.advance(1000);
        }
      });
      const events = (await runToEnd(source)).flat();
      const capacity = Math.floor((64 * 1024) / 72);
      expect(first).toBeGreaterThan(0);
      expect(events).toHaveLength(first + capacity);
      expect(source.lost).toBe(100_000 - first - capacity);
      expect(await metrics.droppedCount('synthetic', 'ring_full')).toBe(source.lost);
    });

    it('rejects a mix with no positive weight, naming the key', () => {
      expect(
        () =>
          new SyntheticSource(config({ mix: { 'process.exec': 0 } }), {
            logger: silentLogger(),
            metrics: new Metrics(),
          }),
      ).toThrow(/source\.synthetic\.mix: .* must give some kind a weight above 0/);
    });
  });

  describe('.shutdown', () => {
    it('is safe without start and completes the stream', async () => {
      const source = new SyntheticSource(config(), { logger: silentLogger(), metrics: new Metrics() });
      const done = lastValueFrom(source.batches$.pipe(toArray()));
      await source.shutdown();
      await expect(done).resolves.toEqual([]);
    });

    it('stops an unbounded run, completes the stream and is idempotent', async () => {
      const source = new SyntheticSource(config({ eventsPerSecond: 0 }), {
        logger: silentLogger(),
        metrics: new Metrics(),
      });
      let n = 0;
      let completed = false;
      source.batches$.subscribe({ next: (b) => (n += b.events.length), complete: () => (completed = true) });
      await source.start();
      await source.start();
      while (n < 10_000) await new Promise((r) => setImmediate(r));
      await source.shutdown();
      await source.shutdown();
      expect(completed).toBe(true);
      expect(source.produced).toBe(n);
      expect(source.decodeStats.malformed).toBe(0);
    });
  });
});

describe('kindSchedule', () => {
  it('keeps the proportions of the weights', () => {
    const s = kindSchedule({ 'process.exec': 1, 'process.exit': 2, 'tcp.close': 5 }, 800);
    expect(s.filter((k) => k === EventKind.ProcessExec)).toHaveLength(100);
    expect(s.filter((k) => k === EventKind.ProcessExit)).toHaveLength(200);
    expect(s.filter((k) => k === EventKind.TcpClose)).toHaveLength(500);
  });
});

describe('syntheticWorkloads', () => {
  it('gives every container a distinct cgroup id and shares one frozen meta per container', () => {
    const w = syntheticWorkloads(200, 2, 'node-a');
    expect(w.containers).toHaveLength(400);
    expect(w.metaByCgroup.size).toBe(400);
    expect(new Set(w.containers.map((c) => c.meta.podUid)).size).toBe(200);
    expect(w.containers[0]!.meta).toBe(w.metaByCgroup.get(w.containers[0]!.cgroupId));
    expect(w.containers[3]!.meta.attributes['k8s.pod.name']).toBe(w.containers[3]!.meta.podName);
  });
});

describe('synthetic and replay config sections', () => {
  const fixture = (name: string): string => join(__dirname, '..', 'fixtures', 'bad-config', name);

  it.each([
    ['synthetic-negative-rate.yaml', /source\.synthetic\.eventsPerSecond: -5 must be >= 0/],
    ['synthetic-unknown-kind.yaml', /source\.synthetic\.mix: .*"udp\.send".* is not one of "process\.exec"/],
    ['replay-rate-string.yaml', /source\.replay\.rate: "fast" must be number/],
  ])('loadConfig rejects %s naming the key and value', (name, message) => {
    expect(() => loadConfig(fixture(name), {})).toThrow(ConfigError);
    expect(() => loadConfig(fixture(name), {})).toThrow(message);
  });

  it('fills the defaults', () => {
    const c = validateConfig({ source: { kind: 'synthetic' } });
    expect(c.source.synthetic.pods).toBe(200);
    expect(c.source.replay).toEqual({ file: '', rate: 0, loop: false, maxBatchEvents: 4096 });
  });
});
