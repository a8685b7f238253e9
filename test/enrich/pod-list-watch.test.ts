import { KubeconfigCredentials } from '../../src/enrich/kube/kube-credentials';
import { KubeMetadataClient } from '../../src/enrich/kube/kube-metadata-client';
import { PodListWatch } from '../../src/enrich/kube/pod-list-watch';
import type { SlimPod } from '../../src/enrich/kube/slim-pod';
import { KubeApiServer, podObject } from '../helpers/kube-api-server';
import type { LoggedRequest } from '../helpers/kube-api-server';
import { until } from './enrich-fixtures';

const NODE = 'node-1';
const PODS = 25;
const PAGE = 10;

const uidOf = (i: number): string => `uid-${String(i).padStart(3, '0')}`;

function addPods(api: KubeApiServer, from: number, to: number, node = NODE): void {
  for (let i = from; i < to; i++)
    api.upsert(
      '/api/v1/pods',
      podObject({
        name: `pod-${String(i).padStart(3, '0')}`,
        namespace: 'shop',
        uid: uidOf(i),
        nodeName: node,
        labels: { app: 'web' },
        owner: { kind: 'ReplicaSet', name: 'web-1' },
        containers: [{ name: 'app', image: 'nginx', id: `${String(i).padStart(64, 'a')}` }],
      }),
    );
}

/** A PodListWatch against `api` that records what it reports. */
/** Starts the list-watch and waits for its first complete list and a watch on the server. */
async function listedAndWatching(h: Awaited<ReturnType<typeof harness>>, api: KubeApiServer): Promise<void> {
  h.lw.start();
  await until(() => h.lists.length === 1 && api.count('/api/v1/pods', 'watch') >= 1, 'listed and watching');
}

async function harness(api: KubeApiServer) {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(api.writeKubeconfig());
  const client = new KubeMetadataClient(new KubeconfigCredentials(kc), 2, 3000);
  const lists: SlimPod[][] = [];
  const changes: { uid: string; removed: boolean }[] = [];
  const failures: string[] = [];
  const expired: string[] = [];
  const lw = new PodListWatch(
    client,
    { nodeName: NODE, pageSize: PAGE, backoffInitialMs: 50, backoffMaxMs: 200 },
    {
      listed: (pods) => lists.push(pods),
      changed: (pod, removed) => changes.push({ uid: pod.uid, removed }),
      failed: (reason) => failures.push(reason),
      expired: (during) => expired.push(during),
    },
  );
  return {
    lw,
    lists,
    changes,
    failures,
    expired,
    async stop(): Promise<void> {
      await lw.stop();
      client.close();
    },
  };
}

const podLists = (api: KubeApiServer): LoggedRequest[] => api.requestsFor('/api/v1/pods', 'list');
const firstPages = (api: KubeApiServer): number =>
  podLists(api).filter((r) => !r.query.has('continue')).length;
const uids = (pods: SlimPod[] | undefined): string[] => (pods ?? []).map((p) => p.uid).sort();
const all = (n: number): string[] => Array.from({ length: n }, (_, i) => uidOf(i));

describe('PodListWatch', () => {
  let api: KubeApiServer;

  beforeEach(async () => {
    api = new KubeApiServer();
    await api.start();
    addPods(api, 0, PODS);
    addPods(api, 100, 110, 'other-node');
  });

  afterEach(async () => {
    await api.stop();
  });

  describe('list', () => {
    it('starts over from the first page when the continue token expired (410)', async () => {
      let compacted = false;
      api.onRequest = (r) => {
        if (r.verb === 'list' && r.query.has('continue') && !compacted) {
          compacted = true;
          // The server compacts between two pages; a pod appears meanwhile.
          api.compact();
          addPods(api, PODS, PODS + 1);
        }
      };
      const h = await harness(api);
      h.lw.start();
      await until(() => h.lists.length === 1, 'a complete list');
      expect(h.expired).toEqual(['list']);
      expect(uids(h.lists[0])).toEqual(all(PODS + 1));
      expect(firstPages(api)).toBe(2);
      // Nothing of the first, expired attempt was delivered as a list.
      expect(h.failures).toEqual([]);
      await h.stop();
    });

    it('retries the same page when the API server is down mid-pagination, then watches', async () => {
      let downed = false;
      api.onRequest = (r) => {
        if (r.verb === 'list' && r.query.has('continue') && !downed) {
          downed = true;
          api.down();
          setTimeout(() => api.up(), 300);
        }
      };
      const h = await harness(api);
      h.lw.start();
      await until(() => h.lists.length === 1, 'a complete list after the outage');
      expect(h.failures.length).toBeGreaterThan(0);
      expect(new Set(h.failures)).toEqual(new Set(['http_503']));
      expect(uids(h.lists[0])).toEqual(all(PODS));
      // The list was not restarted: the page that failed was asked again with its token.
      expect(firstPages(api)).toBe(1);
      await until(() => api.count('/api/v1/pods', 'watch') >= 1, 'the watch open');
      addPods(api, PODS, PODS + 1);
      await until(() => h.changes.some((c) => c.uid === uidOf(PODS)), 'the watch delivering');
      await h.stop();
    });

    it('never wedges while the API server is down: stop() ends the backoff', async () => {
      api.down();
      const h = await harness(api);
      h.lw.start();
      await until(() => h.failures.length >= 3, 'retries counted');
      expect(h.lists).toEqual([]);
      await h.stop();
      const asked = api.requests.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(api.requests.length).toBe(asked);
    });

    it('asks for pages of the configured size and assembles the whole node', async () => {
      const h = await harness(api);
      h.lw.start();
      await until(() => h.lists.length === 1, 'a complete list');
      const pages = podLists(api);
      expect(pages).toHaveLength(Math.ceil(PODS / PAGE));
      expect(pages.every((r) => r.query.get('limit') === String(PAGE))).toBe(true);
      expect(pages.every((r) => r.query.get('fieldSelector') === `spec.nodeName=${NODE}`)).toBe(true);
      expect(uids(h.lists[0])).toEqual(all(PODS));
      const pod = h.lists[0]?.find((p) => p.uid === uidOf(3));
      expect(pod).toMatchObject({
        name: 'pod-003',
        namespace: 'shop',
        owner: { kind: 'ReplicaSet', name: 'web-1' },
      });
      expect(pod?.labels).toEqual({ app: 'web' });
      expect([...(pod?.containers ?? new Map()).entries()]).toEqual([
        [`${'3'.padStart(64, 'a')}`, { name: 'app', image: 'nginx' }],
      ]);
      await h.stop();
    });
  });

  describe('watch', () => {
    it('relists when the watch resourceVersion expired (ERROR 410 event)', async () => {
      const h = await harness(api);
      await listedAndWatching(h, api);
      api.compact();
      api.remove('/api/v1/pods', 'shop', 'pod-000');
      await until(() => h.lists.length === 2, 'relisted');
      expect(h.expired).toContain('watch');
      expect(uids(h.lists[1])).toEqual(all(PODS).slice(1));
      await h.stop();
    });

    it('relists after an HTTP 410 on the watch request', async () => {
      api.expireWithHttp = true;
      const h = await harness(api);
      await listedAndWatching(h, api);
      api.compact();
      await until(() => h.lists.length === 2, 'relisted');
      expect(h.expired).toContain('watch');
      await h.stop();
    });

    it('resumes a watch the server ended from its last resourceVersion, without a relist', async () => {
      const h = await harness(api);
      await listedAndWatching(h, api);
      addPods(api, PODS, PODS + 1);
      await until(() => h.changes.some((c) => c.uid === uidOf(PODS)), 'first change');
      api.closeWatches();
      api.remove('/api/v1/pods', 'shop', 'pod-001');
      await until(
        () => h.changes.some((c) => c.uid === uidOf(1) && c.removed),
        'the removal, after the reconnect',
      );
      expect(h.lists).toHaveLength(1);
      const watches = api.requestsFor('/api/v1/pods', 'watch');
      expect(watches.length).toBeGreaterThanOrEqual(2);
      const rvs = watches.map((w) => Number(w.query.get('resourceVersion')));
      expect(rvs[1]).toBeGreaterThan(rvs[0] as number);
      expect(watches.every((w) => w.query.get('allowWatchBookmarks') === 'true')).toBe(true);
      await h.stop();
    });

    it('keeps what it knows through an outage and resumes the watch after it', async () => {
      const h = await harness(api);
      await listedAndWatching(h, api);
      api.down();
      await until(() => h.failures.length >= 2, 'failures counted');
      api.up();
      addPods(api, PODS, PODS + 1);
      await until(() => h.changes.some((c) => c.uid === uidOf(PODS)), 'watch resumed');
      expect(h.lists).toHaveLength(1);
      await h.stop();
    });
  });
});

describe('KubeApiServer paged lists', () => {
  it('pages with limit and continue, counting the rest only without a selector', async () => {
    const api = new KubeApiServer();
    await api.start();
    addPods(api, 0, 5);
    const get = async (q: string): Promise<{ metadata: Record<string, unknown>; items: unknown[] }> => {
      const res = await fetch(`${api.url}/api/v1/pods?${q}`, {
        headers: { authorization: 'Bearer test-token' },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { metadata: Record<string, unknown>; items: unknown[] };
    };
    const p1 = await get('limit=2');
    expect(p1.items).toHaveLength(2);
    expect(p1.metadata.remainingItemCount).toBe(3);
    const p2 = await get(`limit=2&continue=${String(p1.metadata.continue)}`);
    expect(p2.metadata.resourceVersion).toBe(p1.metadata.resourceVersion);
    const p3 = await get(`limit=2&continue=${String(p2.metadata.continue)}`);
    expect(p3.items).toHaveLength(1);
    expect(p3.metadata.continue).toBeUndefined();
    const s1 = await get(`limit=2&fieldSelector=spec.nodeName%3D${NODE}`);
    expect(s1.metadata.continue).toEqual(expect.any(String));
    expect(s1.metadata.remainingItemCount).toBeUndefined();
    api.compact();
    const gone = await fetch(`${api.url}/api/v1/pods?limit=2&continue=${String(s1.metadata.continue)}`, {
      headers: { authorization: 'Bearer test-token' },
    });
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { reason: string }).reason).toBe('Expired');
    await api.stop();
  });
});
