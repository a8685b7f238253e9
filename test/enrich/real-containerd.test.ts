import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { classifyCgroupPath } from '../../src/enrich/cgroup/cgroup-layout';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { cgroup2PathOf } from '../../src/enrich/cgroup/cgroup-path-resolver';
import { probeCri } from '../../src/enrich/cri/cri-probe';
import type { TcpConnectEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { TEST_IMAGE, TestContainerd, containerdMissing } from '../helpers/containerd';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';
import { ClosingListener } from '../helpers/closing-listener';
import { describeIf } from '../helpers/prereq';
import { Harness, arriving, enrichConfig, execEvent, until } from './enrich-fixtures';

const NODE = 'node-itest';

function connectEvent(cgroupId: number, pid: number, port: number): TcpConnectEvent {
  return {
    kind: EventKind.TcpConnect,
    ...arriving(cgroupId, pid, 'nc'),
    family: 4,
    localAddr: '127.0.0.1',
    localPort: 40000,
    remoteAddr: '127.0.0.1',
    remotePort: port,
    netns: 0,
    threadName: 'nc',
    observedSinceStart: false,
    latencyNs: 1000,
    errno: 0,
    error: null,
  };
}

/** The real cgroup2 path and id of a real process. */
function cgroupOf(pid: number): { path: string; id: number } {
  const mount = detectCgroup2Mount('');
  const path = cgroup2PathOf(readFileSync(`/proc/${pid}/cgroup`, 'utf8')) as string;
  return { path, id: statSync(join(mount?.base ?? '/sys/fs/cgroup', path)).ino };
}

describeIf(containerdMissing())('PodEnricher with a real containerd', () => {
  const containerd = new TestContainerd();
  const api = new KubeApiServer();
  const listener = new ClosingListener();
  let port = 0;
  let h: Harness;

  beforeAll(async () => {
    port = (await listener.start()).port;
    await containerd.start();
    await api.start();
    api.upsert(
      '/apis/apps/v1/replicasets',
      ownedObject('web-5f7c8', 'shop', { kind: 'Deployment', name: 'web' }),
    );
    h = new Harness(
      enrichConfig({
        holdMs: 3000,
        cri: { endpoint: containerd.endpoint, relistSeconds: 1 },
        kubernetes: { kubeconfig: api.writeKubeconfig(), labels: ['app'] },
      }),
      undefined,
      NODE,
    );
    await h.enricher.start();
    await until(() => h.enricher.cri.connected && h.enricher.kube.synced, 'CRI and API synced');
  }, 120000);

  afterAll(async () => {
    h?.input.complete();
    await h?.enricher.shutdown();
    await containerd.stop();
    await api.stop();
    await listener.stop();
  }, 120000);

  it('probeCri finds the runtime by Version', async () => {
    const p = await probeCri(containerd.endpoint);
    expect(p).toMatchObject({ endpoint: containerd.endpoint, runtimeName: 'containerd' });
    const none = await probeCri('', 500, ['unix:///nonexistent/podtrace.sock', containerd.endpoint]);
    expect(none.tried.map((t) => t.error === null)).toEqual([false, true]);
    expect(none.endpoint).toBe(containerd.endpoint);
  });

  it('attributes a workload that execs, opens a file and connects: held until the API knows the pod, then complete', async () => {
    const uid = randomUUID();
    const pod = await containerd.runPod({
      name: 'web-5f7c8-xk2lp',
      namespace: 'shop',
      uid,
      cgroupParent: `/kubepods/burstable/pod${uid}`,
      labels: { app: 'web' },
      container: {
        name: 'app',
        command: [
          '/bin/sh',
          '-c',
          `while true; do cat /etc/podtrace-test >/dev/null; echo hi | nc 127.0.0.1 ${port}; sleep 0.2; done`,
        ],
      },
    });
    expect(pod.pid).toBeGreaterThan(0);
    await until(() => listener.connections > 0, 'the workload connected to the loopback listener');
    const cg = cgroupOf(pod.pid);
    // containerd + runc with the cgroupfs driver: the container's cgroup is <parent>/<id> in the v2 tree.
    expect(cg.path).toBe(`/kubepods/burstable/pod${uid}/${pod.containerId}`);
    expect(classifyCgroupPath(cg.path)).toEqual({
      kind: 'container',
      containerId: pod.containerId,
      runtime: null,
      podUid: uid,
      qos: 'burstable',
    });

    const before = h.out.length;
    h.push([execEvent(cg.id, pod.pid, '/bin/cat'), connectEvent(cg.id, pod.pid, port)]);
    await until(
      () =>
        h.enricher.cri.callCount('ContainerStatus') + h.enricher.cri.relists > 0 &&
        h.enricher.cri.container(pod.containerId) !== undefined,
      'CRI knows the container',
    );
    expect(h.out.length).toBe(before);
    expect(h.enricher.heldCount).toBe(2);

    api.upsert(
      '/api/v1/pods',
      podObject({
        name: 'web-5f7c8-xk2lp',
        namespace: 'shop',
        uid,
        nodeName: NODE,
        labels: { app: 'web' },
        owner: { kind: 'ReplicaSet', name: 'web-5f7c8' },
      }),
    );
    await until(() => h.out.length === before + 2, 'held events released');
    const [exec, connect] = h.out.slice(before);
    expect(exec?.enrichment).toBe('complete');
    expect(connect?.meta).toBe(exec?.meta);
    expect(exec?.meta?.attributes).toEqual({
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'web-5f7c8-xk2lp',
      'k8s.pod.uid': uid,
      'k8s.container.name': 'app',
      'container.id': pod.containerId,
      'container.image.name': TEST_IMAGE,
      'container.runtime.name': 'containerd',
      'k8s.replicaset.name': 'web-5f7c8',
      'k8s.deployment.name': 'web',
      'k8s.pod.label.app': 'web',
      'service.name': 'web',
      'service.namespace': 'shop',
    });

    // Caching: many more events, no CRI or API calls.
    const criCalls =
      h.enricher.cri.callCount('ContainerStatus') + h.enricher.cri.callCount('PodSandboxStatus');
    const apiCalls = api.requests.filter((r) => !r.includes('watch=true')).length;
    for (let i = 0; i < 20; i++)
      h.push(Array.from({ length: 50 }, () => execEvent(cg.id, pod.pid, '/bin/sleep')));
    await until(() => h.out.length === before + 2 + 1000, '1000 more events out');
    expect(h.out.slice(before + 2).every((e) => e.meta === exec?.meta && e.enrichment === 'complete')).toBe(
      true,
    );
    expect(h.enricher.cri.callCount('ContainerStatus') + h.enricher.cri.callCount('PodSandboxStatus')).toBe(
      criCalls,
    );
    expect(criCalls).toBeLessThanOrEqual(1);
    expect(api.requests.filter((r) => !r.includes('watch=true')).length).toBe(apiCalls);
  });

  it('emits a pod the API never learns about after holdMs, partial with what CRI knows', async () => {
    const uid = randomUUID();
    const pod = await containerd.runPod({
      name: 'ghost',
      namespace: 'tmp',
      uid,
      cgroupParent: `/kubepods/pod${uid}`,
      container: { name: 'idle', command: ['/bin/sleep', '600'] },
    });
    const cg = cgroupOf(pod.pid);
    expect(classifyCgroupPath(cg.path)).toMatchObject({ kind: 'container', qos: 'guaranteed', podUid: uid });
    const before = h.out.length;
    h.push([execEvent(cg.id, pod.pid, '/bin/sleep')]);
    await until(() => h.out.length === before + 1, 'emitted after the deadline');
    expect(h.out[before]?.enrichment).toBe('partial');
    expect(h.out[before]?.meta).toMatchObject({
      namespace: 'tmp',
      podName: 'ghost',
      podUid: uid,
      containerName: 'idle',
      containerId: pod.containerId,
    });
  });
});
