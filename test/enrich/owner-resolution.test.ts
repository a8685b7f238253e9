import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger';
import type { Logger } from '../../src/core/logger';
import { Metrics } from '../../src/telemetry/metrics';
import { OWNER_REVALIDATE_MIN_MS, OwnerCache } from '../../src/enrich/kube/owner-cache';
import { KubeconfigCredentials } from '../../src/enrich/kube/kube-credentials';
import { KubeMetadataClient, KubeRequestError } from '../../src/enrich/kube/kube-metadata-client';
import type { PodtraceEvent } from '../../src/events/event';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';
import { FakeNode, Harness, NO_FILTER, enrichConfig, execEvent, until } from './enrich-fixtures';
import type { EnrichOverrides } from './enrich-fixtures';

const NODE = 'node-1';
const RS = '/apis/apps/v1/replicasets' as const;
const JOBS = '/apis/batch/v1/jobs' as const;
const PODS = '/api/v1/pods' as const;
const uid = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const cid = (n: number): string => n.toString(16).padStart(64, 'e');
const podPath = (u: string, c: string): string =>
  `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u.replace(/-/g, '_')}.slice/cri-containerd-${c}.scope`;

function logCapture(): { logger: ReturnType<typeof createLogger>; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    logger: createLogger({ destination: stream, level: 'debug', format: 'json' }),
    lines: () => chunks.join('').split('\n').filter(Boolean),
  };
}

describe('PodEnricher owner resolution', () => {
  let api: KubeApiServer;
  let node: FakeNode;
  const harnesses: Harness[] = [];

  const harness = (over: EnrichOverrides['kubernetes'] = {}, logger?: Logger): Harness => {
    const h = new Harness(
      enrichConfig({
        cgroupBase: node.cgroupBase,
        procBase: node.procBase,
        holdMs: 10000,
        cri: { enabled: false },
        kubernetes: { kubeconfig: api.writeKubeconfig(), backoffInitialMs: 50, backoffMaxMs: 100, ...over },
      }),
      NO_FILTER,
      NODE,
      logger,
    );
    harnesses.push(h);
    return h;
  };

  /** A pod of this node with one container, owned by `owner`; returns its cgroup id and pid. */
  const pod = (
    n: number,
    namespace: string,
    owner: { kind: string; name: string } | undefined,
    labels = {},
  ): { cg: number; pid: number } => {
    api.upsert(
      PODS,
      podObject({
        name: `pod-${n}`,
        namespace,
        uid: uid(n),
        nodeName: NODE,
        owner,
        labels,
        containers: [{ name: 'main', image: 'registry.local/app:1', id: cid(n) }],
      }),
    );
    const path = podPath(uid(n), cid(n));
    return { cg: node.cgroup(path), pid: node.process(path) };
  };

  /** Pushes one event for the pod and waits for it to come out. */
  const eventOf = async (h: Harness, p: { cg: number; pid: number }): Promise<PodtraceEvent> => {
    const before = h.out.length;
    h.push([execEvent(p.cg, p.pid)]);
    await until(() => h.out.length === before + 1, 'the event out');
    return h.out[before] as PodtraceEvent;
  };

  beforeEach(async () => {
    node = new FakeNode();
    api = new KubeApiServer();
    await api.start();
    // The rest of the cluster: owners of pods on other nodes.
    for (let i = 0; i < 100; i++) {
      api.upsert(
        RS,
        ownedObject(`other-${i}-5c9d`, `team-${i % 7}`, { kind: 'Deployment', name: `other-${i}` }),
      );
      api.upsert(
        JOBS,
        ownedObject(`batch-${i}-2891`, `team-${i % 7}`, { kind: 'CronJob', name: `batch-${i}` }),
      );
    }
    api.upsert(RS, ownedObject('web-7d4f9', 'shop', { kind: 'Deployment', name: 'web' }));
    api.upsert(JOBS, ownedObject('report-28913', 'jobs', { kind: 'CronJob', name: 'report' }));
  });

  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      h.input.complete();
      await h.enricher.shutdown();
    }
    await api.stop();
    node.cleanup();
  });

  it('resolves Deployment and CronJob by one metadata GET per owner, never a list or watch of replicasets or jobs', async () => {
    const web = [1, 2, 3].map((n) => pod(n, 'shop', { kind: 'ReplicaSet', name: 'web-7d4f9' }));
    const report = pod(4, 'jobs', { kind: 'Job', name: 'report-28913' });
    const h = harness();
    await h.enricher.start();
    await until(() => h.enricher.kube.synced, 'pods listed');
    const events: PodtraceEvent[] = [];
    for (const p of [...web, report]) events.push(await eventOf(h, p));
    for (const e of events.slice(0, 3)) {
      expect(e.enrichment).toBe('complete');
      expect(e.meta?.attributes).toMatchObject({
        'k8s.replicaset.name': 'web-7d4f9',
        'k8s.deployment.name': 'web',
      });
      expect(e.meta?.serviceName).toBe('web');
    }
    expect(events[3]?.meta?.attributes).toMatchObject({
      'k8s.job.name': 'report-28913',
      'k8s.cronjob.name': 'report',
    });
    expect(events[3]?.meta?.serviceName).toBe('report');
    // Nothing cluster-wide: no list or watch of replicasets or jobs, in any namespace.
    for (const r of [RS, JOBS]) {
      expect(api.requestsFor(r, 'list')).toEqual([]);
      expect(api.requestsFor(r, 'watch')).toEqual([]);
    }
    const gets = [...api.requestsFor(RS, 'get'), ...api.requestsFor(JOBS, 'get')];
    // One per owner, though three pods share the ReplicaSet; metadata only, from the watch cache.
    expect(gets.map((g) => g.path).sort()).toEqual([
      '/apis/apps/v1/namespaces/shop/replicasets/web-7d4f9',
      '/apis/batch/v1/namespaces/jobs/jobs/report-28913',
    ]);
    expect(gets.every((g) => g.metadataOnly && g.query.get('resourceVersion') === '0')).toBe(true);
    // The pods watch stays on this node.
    expect(api.requestsFor(PODS).every((r) => r.query.get('fieldSelector') === `spec.nodeName=${NODE}`)).toBe(
      true,
    );
  });

  it('on 403 for the owner GET, emits the events with the ReplicaSet name, counts the errors, logs once, and picks the Deployment up once allowed', async () => {
    api.fault('/apis/apps/v1/namespaces/shop/replicasets/', 403);
    const web = pod(1, 'shop', { kind: 'ReplicaSet', name: 'web-7d4f9' });
    const log = logCapture();
    const h = harness({}, log.logger);
    await h.enricher.start();
    await until(() => h.enricher.kube.synced, 'pods listed');
    const first = await eventOf(h, web);
    expect(first.enrichment).toBe('complete');
    expect(first.meta?.podName).toBe('pod-1');
    expect(first.meta?.attributes['k8s.replicaset.name']).toBe('web-7d4f9');
    expect(first.meta?.attributes['k8s.deployment.name']).toBeUndefined();
    // Retried with backoff, every failure counted, one warning.
    const failures = async (): Promise<number> =>
      (await h.metrics.lookupErrors.get()).values.find((v) => v.labels.reason === 'owner_http_403')?.value ??
      0;
    await until(async () => (await failures()) >= 3, 'three failed lookups counted');
    expect(api.requestsFor(RS, 'get').length).toBeGreaterThanOrEqual(3);
    expect(log.lines().filter((l) => l.includes('owner lookup failed'))).toHaveLength(1);
    // RBAC fixed: the next retry names the Deployment on new events.
    api.fault('/apis/apps/v1/namespaces/shop/replicasets/', null);
    await until(
      async () => (await eventOf(h, web)).meta?.attributes['k8s.deployment.name'] === 'web',
      'deployment after the fix',
    );
    expect(api.requestsFor(RS, 'list')).toEqual([]);
  });

  it('keeps serving a cached owner through 5xx and an API that is down, without losing events', async () => {
    const web = pod(1, 'shop', { kind: 'ReplicaSet', name: 'web-7d4f9' });
    const h = harness({ ownerTtlSeconds: 1 });
    await h.enricher.start();
    await until(() => h.enricher.kube.synced, 'pods listed');
    expect((await eventOf(h, web)).meta?.attributes['k8s.deployment.name']).toBe('web');
    api.fault('/apis/apps/v1/', 500);
    const gets = api.requestsFor(RS, 'get').length;
    await until(() => api.requestsFor(RS, 'get').length > gets, 'TTL refresh answered 500');
    api.down();
    await until(async () => {
      const errors = await h.metrics.lookupErrors.get();
      return errors.values.some((v) => v.labels.reason === 'owner_http_503');
    }, 'refresh while down counted');
    const during = await eventOf(h, web);
    expect(during.enrichment).toBe('complete');
    expect(during.meta?.attributes['k8s.deployment.name']).toBe('web');
  });

  it('re-checks an owner that changed while cached when its pod changes, and after the TTL', async () => {
    const web = pod(1, 'shop', { kind: 'ReplicaSet', name: 'web-7d4f9' });
    const h = harness({ ownerTtlSeconds: 2 });
    await h.enricher.start();
    await until(() => h.enricher.kube.synced, 'pods listed');
    expect((await eventOf(h, web)).meta?.attributes['k8s.deployment.name']).toBe('web');
    // The ReplicaSet is adopted by another Deployment; the pod is then updated (labels change).
    api.upsert(RS, ownedObject('web-7d4f9', 'shop', { kind: 'Deployment', name: 'web-v2' }));
    await new Promise((r) => setTimeout(r, OWNER_REVALIDATE_MIN_MS + 50));
    pod(1, 'shop', { kind: 'ReplicaSet', name: 'web-7d4f9' }, { rollout: '2' });
    await until(
      async () => (await eventOf(h, web)).meta?.attributes['k8s.deployment.name'] === 'web-v2',
      'refreshed on pod update',
    );
    // No pod change this time: the TTL refresh finds the next owner.
    api.upsert(RS, ownedObject('web-7d4f9', 'shop', { kind: 'Deployment', name: 'web-v3' }));
    await until(
      async () => (await eventOf(h, web)).meta?.attributes['k8s.deployment.name'] === 'web-v3',
      'refreshed after the TTL',
      10000,
    );
    // Deleted while cached: the pod keeps what was known (its ReplicaSet name, the last parent), counted.
    api.remove(RS, 'shop', 'web-7d4f9');
    await until(
      async () => {
        const errors = await h.metrics.lookupErrors.get();
        return errors.values.some((v) => v.labels.reason === 'owner_http_404');
      },
      '404 counted',
      10000,
    );
    const after = await eventOf(h, web);
    expect(after.meta?.attributes['k8s.replicaset.name']).toBe('web-7d4f9');
    expect(after.meta?.attributes['k8s.deployment.name']).toBe('web-v3');
  });
});

describe('OwnerCache', () => {
  describe('.track', () => {
    it('keeps at most maxEntries owners, evicting the least recently used, and counts evictions', async () => {
      const metrics = new Metrics();
      const asked: string[] = [];
      const cache = new OwnerCache(
        (kind, ns, name) => {
          asked.push(`${kind}/${ns}/${name}`);
          return Promise.resolve({ kind: 'Deployment', name: name.replace(/-rs$/, '') });
        },
        { ttlMs: 60000, maxEntries: 16, backoffInitialMs: 10, backoffMaxMs: 100 },
        { logger: createLogger({ level: 'silent' }), metrics },
        () => undefined,
      );
      cache.start();
      for (let i = 0; i < 16; i++)
        cache.track(`pod-${i}`, 'ns', { kind: 'ReplicaSet', name: `app${i}-rs` }, false);
      // app0 is used again: app1 becomes the least recently used.
      cache.track('pod-0b', 'ns', { kind: 'ReplicaSet', name: 'app0-rs' }, false);
      for (let i = 16; i < 20; i++)
        cache.track(`pod-${i}`, 'ns', { kind: 'ReplicaSet', name: `app${i}-rs` }, false);
      await until(() => cache.parentOf('ReplicaSet', 'ns', 'app19-rs') !== null, 'lookups answered');
      expect(cache.size).toBe(16);
      expect(cache.evictions).toBe(4);
      expect(cache.parentOf('ReplicaSet', 'ns', 'app0-rs')).toEqual({ kind: 'Deployment', name: 'app0' });
      expect(cache.parentOf('ReplicaSet', 'ns', 'app1-rs')).toBeNull();
      const evicted = await metrics.cacheEvictions.get();
      expect(evicted.values).toEqual([
        expect.objectContaining({ labels: { cache: 'owners', reason: 'lru' }, value: 4 }),
      ]);
      // Each owner was looked up once.
      expect(new Set(asked).size).toBe(asked.length);
      cache.stop();
    });
  });
});

describe('KubeMetadataClient', () => {
  describe('.ownerOf', () => {
    it('fails as unreachable when the API server is gone', async () => {
      const api = new KubeApiServer();
      await api.start();
      const kubeconfig = api.writeKubeconfig();
      const k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      await api.stop();
      const client = new KubeMetadataClient(new KubeconfigCredentials(kc), 2);
      const err = await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeRequestError);
      expect((err as KubeRequestError).reason).toBe('unreachable');
      expect((err as KubeRequestError).retriable).toBe(true);
      client.close();
    });
  });
});
