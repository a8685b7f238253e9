import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load-config';
import { containerProcess } from '../../src/exec/container-process';
import { locatePod } from '../../src/target/pod-locator';
import type { LocatedPod, LocateOptions } from '../../src/target/pod-locator';
import { FakeCriServer } from '../enrich/fake-cri-server';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';

const NODE = 'node-a';
const UID = '6f1f7c1e-3b7a-4d55-9a39-0d5e0c7f5a11';
const CID = 'a'.repeat(64);
const SIDECAR = 'b'.repeat(64);

describe('locatePod', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pt-locate-'));
  let cri: FakeCriServer;
  let api: KubeApiServer;
  let sleeper: ChildProcess;
  const warnings: string[] = [];
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOST: process.env.KUBERNETES_SERVICE_HOST };

  function options(over: { kubeconfig?: string; endpoint?: string } = {}): LocateOptions {
    const config = validateConfig({
      enrich: {
        cri: { endpoint: over.endpoint ?? cri.endpoint, timeoutMs: 1000 },
        kubernetes: { kubeconfig: over.kubeconfig ?? '' },
      },
    });
    return {
      nodeName: NODE,
      kubernetes: config.enrich.kubernetes,
      cri: config.enrich.cri,
      commandLine: 'trace -n shop api-0',
      warn: (l) => warnings.push(l),
      apiTimeoutMs: 2000,
    };
  }

  async function located(p: Promise<LocatedPod>): Promise<LocatedPod> {
    const l = await p;
    l.cri?.close();
    return l;
  }

  beforeAll(async () => {
    delete process.env.KUBECONFIG;
    delete process.env.KUBERNETES_SERVICE_HOST;
    sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    // A CRI-O node: runtime name cri-o, container pid in verbose info as CRI-O reports it.
    cri = new FakeCriServer(join(dir, 'crio.sock'));
    cri.runtimeName = 'cri-o';
    cri.addPod({ id: 'sb-api', name: 'api-0', namespace: 'shop', uid: UID }, [
      { id: CID, name: 'api', image: 'quay.io/shop/api:2.1', pid: sleeper.pid },
      { id: SIDECAR, name: 'envoy', image: 'envoyproxy/envoy:v1.31' },
    ]);
    cri.addPod(
      { id: 'sb-hostnet', name: 'node-agent-x', namespace: 'infra', uid: 'hostnet-uid', hostNetwork: true },
      [],
    );
    cri.addPod({ id: 'sb-gone', name: 'done-0', namespace: 'shop', uid: 'done-uid', ready: false }, []);
    await cri.start();
    api = new KubeApiServer();
    await api.start();
    api.upsert(
      '/apis/apps/v1/replicasets',
      ownedObject('api-7d9c4', 'shop', { kind: 'Deployment', name: 'api' }),
    );
    api.upsert(
      '/api/v1/pods',
      podObject({
        name: 'api-0',
        namespace: 'shop',
        uid: UID,
        nodeName: NODE,
        owner: { kind: 'ReplicaSet', name: 'api-7d9c4' },
        containers: [
          { name: 'api', image: 'quay.io/shop/api:2.1', id: CID },
          { name: 'envoy', image: 'envoyproxy/envoy:v1.31', id: SIDECAR },
        ],
      }),
    );
    api.upsert(
      '/api/v1/pods',
      podObject({ name: 'web-1', namespace: 'shop', uid: 'web-1-uid', nodeName: 'node-b' }),
    );
    const pending = podObject({ name: 'queued-0', namespace: 'shop', uid: 'queued-uid', nodeName: NODE });
    (pending.status as { phase: string }).phase = 'Pending';
    api.upsert('/api/v1/pods', pending);
  });

  afterAll(async () => {
    sleeper.kill();
    await cri.stop();
    await api.stop();
    if (saved.KUBECONFIG !== undefined) process.env.KUBECONFIG = saved.KUBECONFIG;
    if (saved.HOST !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.HOST;
  });

  beforeEach(() => {
    warnings.length = 0;
  });

  it('without credentials finds a CRI-O pod by its sandbox labels alone, and its container pid from verbose info', async () => {
    const l = await locatePod({ namespace: 'shop', name: 'api-0' }, options());
    expect(l.target).toMatchObject({
      namespace: 'shop',
      name: 'api-0',
      uid: UID,
      node: NODE,
      owner: null,
      hostNetwork: false,
      sandboxId: 'sb-api',
      resolvedBy: 'cri',
      runtime: 'cri-o',
    });
    expect(l.target.containers).toEqual([
      { name: 'api', id: CID, image: 'quay.io/shop/api:2.1', state: 'running' },
      { name: 'envoy', id: SIDECAR, image: 'envoyproxy/envoy:v1.31', state: 'running' },
    ]);
    const proc = await containerProcess(l.cri, CID, { cgroupBase: null, procBase: '/proc' });
    expect(proc).toEqual({ pid: sleeper.pid, source: 'cri' });
    // A container without a pid in its info and no cgroup to fall back to: no process.
    expect(await containerProcess(l.cri, SIDECAR, { cgroupBase: null, procBase: '/proc' })).toBeNull();
    l.cri?.close();
    expect(warnings).toEqual([]);
  });

  it('with the API names the owner workload and takes states and host network from the runtime', async () => {
    const l = await located(
      locatePod({ namespace: 'shop', name: 'api-0' }, options({ kubeconfig: api.writeKubeconfig() })),
    );
    expect(l.target.owner).toEqual({ kind: 'Deployment', name: 'api' });
    expect(l.target.resolvedBy).toBe('kubernetes+cri');
    expect(l.target.containers.map((c) => [c.name, c.state])).toEqual([
      ['api', 'running'],
      ['envoy', 'running'],
    ]);
    const host = await located(locatePod({ namespace: 'infra', name: 'node-agent-x' }, options()));
    expect(host.target.hostNetwork).toBe(true);
  });

  it('names the node of a pod that runs elsewhere, with the command to run there', async () => {
    await expect(
      locatePod({ namespace: 'shop', name: 'web-1' }, options({ kubeconfig: api.writeKubeconfig() })),
    ).rejects.toThrow(
      'pod shop/web-1 runs on node node-b, not on this node (node-a): run podtrace on node node-b, e.g. kubectl exec -n podtrace $(kubectl get pod -n podtrace -l app.kubernetes.io/name=podtrace --field-selector spec.nodeName=node-b -o name) -- podtrace trace -n shop api-0',
    );
  });

  it('says a pod is missing, naming it and its namespace, from the API and from CRI alone', async () => {
    const kubeconfig = api.writeKubeconfig();
    await expect(locatePod({ namespace: 'shop', name: 'nope-0' }, options({ kubeconfig }))).rejects.toThrow(
      `pod "nope-0" not found in namespace "shop" (Kubernetes API ${api.url})`,
    );
    await expect(locatePod({ namespace: 'prod', name: 'api-0' }, options())).rejects.toThrow(
      `pod "api-0" not found in namespace "prod" on this node (CRI cri-o at ${cri.endpoint}; no Kubernetes credentials (in-cluster, enrich.kubernetes.kubeconfig, KUBECONFIG), so pods on other nodes are not visible)`,
    );
  });

  it('says a pod is not running (API phase, or a sandbox that is not ready)', async () => {
    await expect(
      locatePod({ namespace: 'shop', name: 'queued-0' }, options({ kubeconfig: api.writeKubeconfig() })),
    ).rejects.toThrow('pod shop/queued-0 is not running (phase Pending)');
    await expect(locatePod({ namespace: 'shop', name: 'done-0' }, options())).rejects.toThrow(
      `pod shop/done-0 is not running (its sandbox on ${cri.endpoint} is not ready)`,
    );
  });

  it('falls back to CRI when the API is unreachable, and fails in one line when neither answers', async () => {
    const kubeconfig = api.writeKubeconfig();
    api.down();
    try {
      const l = await located(locatePod({ namespace: 'shop', name: 'api-0' }, options({ kubeconfig })));
      expect(l.target.resolvedBy).toBe('cri');
      expect(warnings).toEqual([
        `Kubernetes API unreachable (${api.url}: HTTP 503: the server is currently unable to handle the request): resolving pod shop/api-0 through the CRI runtime only`,
      ]);
      const missing = `unix://${join(dir, 'none.sock')}`;
      await expect(
        locatePod({ namespace: 'shop', name: 'api-0' }, options({ kubeconfig, endpoint: missing })),
      ).rejects.toThrow(
        `cannot look up pod shop/api-0: Kubernetes API unreachable (${api.url}: HTTP 503: the server is currently unable to handle the request), and no CRI runtime answered (${missing}: no such socket)`,
      );
    } finally {
      api.up();
    }
  });
});
