import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilterConfig } from '../../src/config/config';
import { silentLogger } from '../../src/core/logger';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { Metrics } from '../../src/telemetry/metrics';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';
import { FakeCriServer } from './fake-cri-server';
import { FakeNode, Harness, NO_FILTER, enrichConfig, execEvent, oomEvent, until } from './enrich-fixtures';

const NODE = 'node-1';
const C1 = '1'.repeat(64);
const C2 = '2'.repeat(64);
const C3 = '3'.repeat(64);
const SB1 = 'a'.repeat(64);
const SB3 = 'c'.repeat(64);
const UID1 = '11111111-1111-4111-8111-111111111111';
const UID2 = '22222222-2222-4222-8222-222222222222';
const UID3 = '33333333-3333-4333-8333-333333333333';
const podPath = (uid: string, id: string): string =>
  `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`;

describe('PodEnricher', () => {
  let node: FakeNode;
  let sockDir: string;
  let cri: FakeCriServer;
  let api: KubeApiServer;
  let kubeconfig: string;
  const harnesses: Harness[] = [];

  const harness = (
    over: Parameters<typeof enrichConfig>[0] = {},
    filter: FilterConfig = NO_FILTER,
  ): Harness => {
    const h = new Harness(
      enrichConfig({
        cgroupBase: node.cgroupBase,
        procBase: node.procBase,
        ...over,
        cri: { endpoint: cri.endpoint, ...over.cri },
        kubernetes: { kubeconfig, ...over.kubernetes },
      }),
      filter,
      NODE,
    );
    harnesses.push(h);
    return h;
  };

  beforeEach(async () => {
    node = new FakeNode();
    sockDir = mkdtempSync(join(tmpdir(), 'pt-cri-'));
    cri = new FakeCriServer(join(sockDir, 'cri.sock'));
    cri.addPod(
      { id: SB1, name: 'web-7d4f9-abcde', namespace: 'shop', uid: UID1, labels: { app: 'web', team: 'a' } },
      [{ id: C1, name: 'app', image: 'registry.local/web:1.2' }],
    );
    await cri.start();
    api = new KubeApiServer();
    await api.start();
    kubeconfig = api.writeKubeconfig();
    api.upsert(
      '/apis/apps/v1/replicasets',
      ownedObject('web-7d4f9', 'shop', { kind: 'Deployment', name: 'web' }),
    );
    api.upsert(
      '/api/v1/pods',
      podObject({
        name: 'web-7d4f9-abcde',
        namespace: 'shop',
        uid: UID1,
        nodeName: NODE,
        labels: { app: 'web', team: 'a' },
        owner: { kind: 'ReplicaSet', name: 'web-7d4f9' },
        containers: [{ name: 'app', image: 'registry.local/web:1.2', id: C1 }],
      }),
    );
    api.upsert(
      '/api/v1/pods',
      podObject({ name: 'elsewhere', namespace: 'shop', uid: UID2, nodeName: 'node-2' }),
    );
  });

  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      h.input.complete();
      await h.enricher.shutdown();
    }
    await cri.stop();
    await api.stop();
    node.cleanup();
    rmSync(sockDir, { recursive: true, force: true });
  });

  describe('.attach', () => {
    it('attributes container events to pod, container, owner and service, sharing one frozen meta', async () => {
      const h = harness({ kubernetes: { labels: ['team'] } });
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'CRI and API synced');
      const cg = node.cgroup(podPath(UID1, C1));
      const pid = node.process(podPath(UID1, C1));
      h.push([execEvent(cg, pid), execEvent(cg, pid)]);
      await until(() => h.out.length === 2, 'two events out');
      const [a, b] = h.out;
      expect(a?.enrichment).toBe('complete');
      expect(a?.meta).toBe(b?.meta);
      expect(Object.isFrozen(a?.meta)).toBe(true);
      expect(a?.meta?.attributes).toEqual({
        'k8s.node.name': NODE,
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': 'web-7d4f9-abcde',
        'k8s.pod.uid': UID1,
        'k8s.container.name': 'app',
        'container.id': C1,
        'container.image.name': 'registry.local/web:1.2',
        'container.runtime.name': 'fake-cri',
        'k8s.replicaset.name': 'web-7d4f9',
        'k8s.deployment.name': 'web',
        'k8s.pod.label.team': 'a',
        'service.name': 'web',
        'service.namespace': 'shop',
      });
      // Only pods of this node were asked for.
      expect(
        api.requests
          .filter((r) => r.startsWith('GET /api/v1/pods'))
          .every((r) => r.includes('fieldSelector=spec.nodeName%3Dnode-1')),
      ).toBe(true);
    });

    it('attributes host processes to one shared host meta', async () => {
      const h = harness();
      await h.enricher.start();
      const root = node.cgroup('/');
      const sys = node.cgroup('/system.slice/containerd.service');
      h.push([
        execEvent(root, node.process('/')),
        execEvent(sys, node.process('/system.slice/containerd.service')),
      ]);
      await until(() => h.out.length === 2, 'host events out');
      expect(h.out[0]?.meta).toBe(h.out[1]?.meta);
      expect(h.out[0]?.meta).toMatchObject({
        host: true,
        serviceName: '',
        serviceNamespace: 'host',
        attributes: { 'k8s.node.name': NODE },
      });
      expect(h.out.map((e) => e.enrichment)).toEqual(['complete', 'complete']);
    });

    it('answers repeated events from its cache: CRI asked at most once per container, no per-event API requests', async () => {
      const h = harness();
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      await until(() => api.count('/api/v1/pods', 'watch') === 1, 'pods watch open');
      await until(() => h.enricher.kube.ownerSettled(UID1), 'owner looked up');
      const criBefore =
        cri.count('ContainerStatus') + cri.count('ListContainers') + cri.count('PodSandboxStatus');
      const apiBefore = api.requests.length;
      const cg = node.cgroup(podPath(UID1, C1));
      const pid = node.process(podPath(UID1, C1));
      for (let i = 0; i < 50; i++) h.push(Array.from({ length: 20 }, () => execEvent(cg, pid)));
      await until(() => h.out.length === 1000, '1000 events out');
      expect(h.out.every((e) => e.enrichment === 'complete')).toBe(true);
      expect(new Set(h.out.map((e) => e.meta)).size).toBe(1);
      // Warm cache from ListContainers: no ContainerStatus at all; no new API requests.
      expect(cri.count('ContainerStatus') + cri.count('ListContainers') + cri.count('PodSandboxStatus')).toBe(
        criBefore,
      );
      expect(api.requests.length).toBe(apiBefore);
    });

    it('holds an event whose pod the runtime and API do not know yet, then emits it complete', async () => {
      const h = harness({ holdMs: 30000 });
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      const cg = node.cgroup(podPath(UID3, C3));
      const pid = node.process(podPath(UID3, C3));
      h.push([execEvent(cg, pid, '/first')]);
      await until(() => cri.count('ContainerStatus') === 1, 'one ContainerStatus for the unknown container');
      h.push([execEvent(cg, pid, '/second')]);
      expect(h.out).toHaveLength(0);
      expect(h.enricher.heldCount).toBe(2);
      // The pod appears in the API (its Job existed first, as in a cluster); CRI still does not know it.
      api.upsert('/apis/batch/v1/jobs', ownedObject('report-1', 'jobs', { kind: 'CronJob', name: 'report' }));
      api.upsert(
        '/api/v1/pods',
        podObject({
          name: 'late',
          namespace: 'jobs',
          uid: UID3,
          nodeName: NODE,
          owner: { kind: 'Job', name: 'report-1' },
          containers: [{ name: 'worker', image: 'busybox', id: C3 }],
        }),
      );
      await until(() => h.out.length === 2, 'held events released');
      expect(h.out.map((e) => (e as { filename: string }).filename)).toEqual(['/first', '/second']);
      expect(h.out.every((e) => e.enrichment === 'complete')).toBe(true);
      expect(h.out[0]?.meta?.attributes['k8s.container.name']).toBe('worker');
      expect(h.out[0]?.meta?.attributes['k8s.job.name']).toBe('report-1');
      expect(h.out[0]?.meta?.attributes['k8s.cronjob.name']).toBe('report');
      expect(h.out[0]?.meta?.serviceName).toBe('report');
      expect(cri.count('ContainerStatus')).toBe(1);
    });

    it('emits events of a pod that never appears after holdMs, nothing lost', async () => {
      const h = harness({ holdMs: 300 });
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      const cg = node.cgroup(podPath(UID3, C3));
      const pid = node.process(podPath(UID3, C3));
      const unknown = 987654321;
      h.push([execEvent(cg, pid), execEvent(unknown, 0), execEvent(cg, pid)]);
      expect(h.out).toHaveLength(0);
      await until(() => h.out.length === 3, 'all three emitted after the deadline');
      const byCg = h.out.map((e) => [e.cgroupId, e.enrichment]);
      expect(byCg).toEqual(
        expect.arrayContaining([
          [cg, 'partial'],
          [unknown, 'none'],
          [cg, 'partial'],
        ]),
      );
      expect(h.out.find((e) => e.cgroupId === cg)?.meta?.attributes).toMatchObject({
        'container.id': C3,
        'k8s.pod.uid': UID3,
      });
      expect(h.out.find((e) => e.cgroupId === unknown)?.meta).toBeNull();
      expect(await h.outcomes()).toEqual({ partial: 2, none: 1 });
    });

    it('attributes an OOM kill to the victim cgroup', async () => {
      const h = harness();
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      const victimCg = node.cgroup(podPath(UID1, C1));
      const victimPid = node.process(podPath(UID1, C1));
      const hostCg = node.cgroup('/system.slice/stress.service');
      h.push([oomEvent(hostCg, node.process('/system.slice/stress.service'), victimCg, victimPid)]);
      await until(() => h.out.length === 1, 'oom out');
      expect(h.out[0]?.meta?.podName).toBe('web-7d4f9-abcde');
    });

    it('keeps serving cached metadata through an API outage and counts the errors', async () => {
      const h = harness();
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      api.down();
      await until(async () => (await h.lookupErrors('kubernetes')) > 0, 'watch error counted');
      const cg = node.cgroup(podPath(UID1, C1));
      h.push([execEvent(cg, node.process(podPath(UID1, C1)))]);
      await until(() => h.out.length === 1, 'event out');
      expect(h.out[0]?.enrichment).toBe('complete');
      expect(h.out[0]?.meta?.attributes['k8s.deployment.name']).toBe('web');
      api.up();
      api.upsert('/api/v1/pods', podObject({ name: 'after', namespace: 'shop', uid: UID3, nodeName: NODE }));
      await until(() => h.enricher.kube.podByUid(UID3) !== undefined, 'watch resumed after the outage');
    });

    it('relists after the watch expires (410 Gone)', async () => {
      const h = harness();
      await h.enricher.start();
      await until(() => h.enricher.kube.synced, 'synced');
      const listsBefore = api.count('/api/v1/pods', 'list');
      api.compact();
      // Changed while the watch was cut: only a relist can see it.
      api.upsert('/api/v1/pods', podObject({ name: 'new', namespace: 'shop', uid: UID3, nodeName: NODE }));
      api.remove('/api/v1/pods', 'shop', 'web-7d4f9-abcde');
      await until(() => h.enricher.kube.podByUid(UID3) !== undefined, 'relisted');
      expect(api.count('/api/v1/pods', 'list')).toBe(listsBefore + 1);
      // The deleted pod stays resolvable for the grace period.
      expect(h.enricher.kube.podByUid(UID1)?.name).toBe('web-7d4f9-abcde');
    });

    it('relists after an HTTP 410 on the watch request', async () => {
      const h = harness();
      await h.enricher.start();
      await until(() => h.enricher.kube.synced, 'synced');
      api.expireWithHttp = true;
      const listsBefore = api.count('/api/v1/pods', 'list');
      api.compact();
      await until(() => api.count('/api/v1/pods', 'list') === listsBefore + 1, 'relisted');
    });

    it('degrades to what the cgroup path and the API say when CRI is unreachable, then reconnects', async () => {
      await cri.stop();
      const h = harness({ holdMs: 100 });
      await h.enricher.start();
      await until(() => h.enricher.kube.synced, 'synced');
      await until(async () => (await h.lookupErrors('cri')) >= 2, 'CRI errors counted with retries');
      const cg = node.cgroup(podPath(UID1, C1));
      const pid = node.process(podPath(UID1, C1));
      h.push([execEvent(cg, pid)]);
      await until(() => h.out.length === 1, 'event out');
      // The API's containerStatuses name the container: complete even without CRI.
      expect(h.out[0]?.enrichment).toBe('complete');
      expect(h.out[0]?.meta?.containerName).toBe('app');
      const cg2 = node.cgroup(podPath(UID3, C2));
      h.push([execEvent(cg2, node.process(podPath(UID3, C2)))]);
      await until(() => h.out.length === 2, 'second event out');
      expect(h.out[1]?.enrichment).toBe('partial');
      expect(h.out[1]?.meta?.attributes).toMatchObject({
        'container.id': C2,
        'k8s.pod.uid': UID3,
        'container.runtime.name': 'containerd',
      });
      cri = new FakeCriServer(cri.socketPath);
      cri.addPod({ id: SB1, name: 'web-7d4f9-abcde', namespace: 'shop', uid: UID1 }, [
        { id: C1, name: 'app', image: 'registry.local/web:1.2' },
      ]);
      rmSync(cri.socketPath, { force: true });
      await cri.start();
      await until(() => h.enricher.cri.connected, 'reconnected');
      expect(cri.count('ListContainers')).toBeGreaterThanOrEqual(1);
    });

    it('gives pod, namespace and container from CRI alone when Kubernetes is disabled', async () => {
      cri.addPod(
        {
          id: SB3,
          name: 'solo',
          namespace: 'edge',
          uid: UID3,
          labels: { 'app.kubernetes.io/name': 'solo-app' },
        },
        [{ id: C3, name: 'main', image: 'busybox:latest' }],
      );
      const h = harness({ kubernetes: { enabled: false } });
      await h.enricher.start();
      await until(() => h.enricher.cri.connected, 'CRI synced');
      const cg = node.cgroup(podPath(UID3, C3));
      h.push([execEvent(cg, node.process(podPath(UID3, C3)))]);
      await until(() => h.out.length === 1, 'event out');
      expect(h.out[0]?.enrichment).toBe('complete');
      expect(h.out[0]?.meta).toMatchObject({
        namespace: 'edge',
        podName: 'solo',
        podUid: UID3,
        containerName: 'main',
        serviceName: 'solo-app',
      });
      expect(api.requests).toHaveLength(0);
    });
  });

  describe('filters', () => {
    const setup = async (
      filter: Partial<FilterConfig>,
    ): Promise<{ h: Harness; web: number; other: number; host: number; pid: (p: string) => number }> => {
      cri.addPod({ id: SB3, name: 'db-0', namespace: 'data', uid: UID3, labels: { app: 'db' } }, [
        { id: C3, name: 'pg', image: 'postgres' },
      ]);
      api.upsert(
        '/api/v1/pods',
        podObject({
          name: 'db-0',
          namespace: 'data',
          uid: UID3,
          nodeName: NODE,
          labels: { app: 'db' },
          owner: { kind: 'StatefulSet', name: 'db' },
        }),
      );
      const h = harness({}, { ...NO_FILTER, ...filter });
      await h.enricher.start();
      await until(() => h.enricher.kube.synced && h.enricher.cri.connected, 'synced');
      return {
        h,
        web: node.cgroup(podPath(UID1, C1)),
        other: node.cgroup(podPath(UID3, C3)),
        host: node.cgroup('/system.slice/sshd.service'),
        pid: (p) => node.process(p),
      };
    };
    const run = async (s: Awaited<ReturnType<typeof setup>>): Promise<string[]> => {
      s.h.push([
        execEvent(s.web, s.pid(podPath(UID1, C1))),
        execEvent(s.other, s.pid(podPath(UID3, C3))),
        execEvent(s.host, s.pid('/system.slice/sshd.service')),
      ]);
      await until(async () => (await s.h.outcomes()).complete === 3, 'three outcomes');
      return s.h.out.map((e) => (e.meta?.host === true ? 'host' : (e.meta?.podName ?? '?')));
    };

    it('keeps only pods of filter.namespaces (host processes follow includeHost)', async () => {
      const s = await setup({ namespaces: ['data'] });
      expect((await run(s)).sort()).toEqual(['db-0', 'host']);
      expect(await s.h.metrics.droppedCount('enrich', 'filtered')).toBe(1);
    });

    it('keeps no host process with a namespace filter and includeHost false', async () => {
      const s = await setup({ namespaces: ['data'], includeHost: false });
      expect(await run(s)).toEqual(['db-0']);
      expect(await s.h.metrics.droppedCount('enrich', 'filtered')).toBe(2);
    });

    it('drops filter.excludeNamespaces', async () => {
      const s = await setup({ excludeNamespaces: ['data'] });
      expect((await run(s)).sort()).toEqual(['host', 'web-7d4f9-abcde']);
    });

    it('keeps pods matching filter.podSelector', async () => {
      const s = await setup({ podSelector: 'app in (web),team=a', includeHost: false });
      expect(await run(s)).toEqual(['web-7d4f9-abcde']);
    });

    it('drops host processes with includeHost false', async () => {
      const s = await setup({ includeHost: false });
      expect((await run(s)).sort()).toEqual(['db-0', 'web-7d4f9-abcde']);
    });
  });

  describe('hold buffer', () => {
    it('lets the oldest held event out early when holdMaxEvents is reached, and counts it', async () => {
      const h = harness({
        holdMs: 60000,
        holdMaxEvents: 2,
        cri: { endpoint: `unix://${join(sockDir, 'none.sock')}` },
        kubernetes: { enabled: false },
      });
      await h.enricher.start();
      h.push([execEvent(111, 0, '/a'), execEvent(112, 0, '/b'), execEvent(113, 0, '/c')]);
      expect(h.out.map((e) => (e as { filename: string }).filename)).toEqual(['/a']);
      expect(h.enricher.heldCount).toBe(2);
      expect(await h.lookupErrors('enrich')).toBe(1);
    });
  });

  describe('.shutdown', () => {
    it('is safe without start and idempotent', async () => {
      const e = new PodEnricher(
        enrichConfig({ cgroupBase: node.cgroupBase, procBase: node.procBase }),
        NO_FILTER,
        {
          logger: silentLogger(),
          metrics: new Metrics(),
          nodeName: NODE,
        },
      );
      await e.shutdown();
      await e.shutdown();
      expect(e.heldCount).toBe(0);
    });

    it('releases held events and completes the output after the input completed', async () => {
      const h = harness({
        holdMs: 60000,
        cri: { endpoint: `unix://${join(sockDir, 'none.sock')}` },
        kubernetes: { enabled: false },
      });
      await h.enricher.start();
      h.push([execEvent(424242, 0), execEvent(424243, 0)]);
      expect(h.enricher.heldCount).toBe(2);
      h.input.complete();
      await h.enricher.shutdown();
      const batches = await h.done;
      expect(batches.flatMap((b) => b.events).map((e) => e.enrichment)).toEqual(['none', 'none']);
    });
  });
});
