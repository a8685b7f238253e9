import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { CollectingSink } from '../helpers/collecting-sink';
import { TestContainerd, containerdMissing } from '../helpers/containerd';
import { missingBpf, waitFor } from '../helpers/kernel';
import { KubeApiServer, podObject } from '../helpers/kube-api-server';
import { describeIf } from '../helpers/prereq';
import { criAndApiEnrich, startEbpfPipeline } from '../helpers/ebpf-pipeline';

const NODE = 'node-preexisting';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A real containerd pod whose server listens BEFORE podtrace starts (a DaemonSet install or
 * upgrade on a busy node): the first connection after start is accepted by that listener, and
 * the accept must be attributed to the pod's container — its socket's cgroup and the owner the
 * start-up iterator learned — not to `unknown_service` with pid 0.
 */
describeIf(missingBpf() ?? containerdMissing())(
  'eBPF attribution of a containerd pod started before podtrace',
  () => {
    const containerd = new TestContainerd();
    const api = new KubeApiServer();
    const sink = new CollectingSink();
    let pipeline: Pipeline;
    let port: number;
    let containerId: string;
    const uid = randomUUID();

    beforeAll(async () => {
      port = await freePort();
      await containerd.start();
      await api.start();
      api.upsert('/api/v1/pods', podObject({ name: 'echo-0', namespace: 'shop', uid, nodeName: NODE }));
      const pod = await containerd.runPod({
        name: 'echo-0',
        namespace: 'shop',
        uid,
        cgroupParent: `/kubepods/besteffort/pod${uid}`,
        container: { name: 'server', command: ['/bin/sh', '-c', `echo hi | nc -l -p ${port}; sleep 600`] },
      });
      containerId = pod.containerId;
      // The listener is up before podtrace starts.
      await waitFor(
        () => (execSync('ss -ltnH').toString().includes(`:${port} `) ? true : undefined),
        'the pod to listen',
        30_000,
      );
      ({ pipeline } = await startEbpfPipeline(
        { nodeName: NODE, enrich: criAndApiEnrich(containerd.endpoint, api.writeKubeconfig()) },
        [sink],
      ));
    }, 120_000);

    afterAll(async () => {
      await pipeline?.shutdown();
      await containerd.stop();
      await api.stop();
    }, 120_000);

    it("attributes the server's accept to its pod and container, with the listener's process", async () => {
      await new Promise<void>((resolve, reject) => {
        const c = connect(port, '127.0.0.1', () => c.end());
        c.on('data', () => undefined);
        c.on('close', () => resolve());
        c.on('error', reject);
      });
      const accept = await waitFor(
        () => sink.events.find((e) => e.kind === EventKind.TcpAccept && e.localPort === port),
        'the tcp.accept of the pre-existing listener',
        30_000,
      );
      expect(accept.pid).toBeGreaterThan(0);
      expect(accept.comm).toBe('nc');
      expect(accept.enrichment).toBe('complete');
      expect(accept.meta?.attributes).toMatchObject({
        'k8s.pod.name': 'echo-0',
        'k8s.namespace.name': 'shop',
        'k8s.container.name': 'server',
        'container.id': containerId,
      });
    }, 60_000);
  },
);
