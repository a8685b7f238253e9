import { randomUUID } from 'node:crypto';
import type { PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import type { Pipeline } from '../../src/pipeline/pipeline';
import { formatJson } from '../../src/sinks/console/console-sink';
import { TestContainerd, containerdMissing } from '../helpers/containerd';
import { missingBpf, waitFor } from '../helpers/kernel';
import { KubeApiServer, ownedObject, podObject } from '../helpers/kube-api-server';
import { ClosingListener } from '../helpers/closing-listener';
import { describeIf } from '../helpers/prereq';
import { criAndApiEnrich, startEbpfPipeline } from '../helpers/ebpf-pipeline';
import { CollectingSink } from '../helpers/collecting-sink';

const NODE = 'node-e2e';

describeIf(missingBpf() ?? containerdMissing())(
  'eBPF source → enrichment with a real containerd and API server',
  () => {
    const containerd = new TestContainerd();
    const api = new KubeApiServer();
    const sink = new CollectingSink();
    const listener = new ClosingListener();
    let port = 0;
    let pipeline: Pipeline;

    beforeAll(async () => {
      port = (await listener.start()).port;
      await containerd.start();
      await api.start();
      api.upsert(
        '/apis/apps/v1/replicasets',
        ownedObject('api-6d4f9', 'shop', { kind: 'Deployment', name: 'api' }),
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
      await listener.stop();
    }, 120_000);

    it('attributes the kernel events of a pod workload to its pod, container and deployment', async () => {
      const uid = randomUUID();
      api.upsert(
        '/api/v1/pods',
        podObject({
          name: 'api-6d4f9-q8r2t',
          namespace: 'shop',
          uid,
          nodeName: NODE,
          owner: { kind: 'ReplicaSet', name: 'api-6d4f9' },
        }),
      );
      const pod = await containerd.runPod({
        name: 'api-6d4f9-q8r2t',
        namespace: 'shop',
        uid,
        cgroupParent: `/kubepods/burstable/pod${uid}`,
        container: {
          name: 'server',
          command: [
            '/bin/sh',
            '-c',
            `while true; do cat /etc/hostname >/dev/null; echo hi | nc 127.0.0.1 ${port}; sleep 0.2; done`,
          ],
        },
      });
      const inPod = (e: PodtraceEvent): boolean => e.meta?.containerId === pod.containerId;
      // busybox runs most applets in-process (fork without exec): the container's own exec of
      // /bin/sh is the exec to look for.
      const exec = await waitFor(
        () => sink.events.find((e) => inPod(e) && e.kind === EventKind.ProcessExec),
        'an enriched process.exec in the pod',
        30_000,
      );
      const connect = await waitFor(
        () => sink.events.find((e) => inPod(e) && e.kind === EventKind.TcpConnect && e.remotePort === port),
        'an enriched tcp.connect from the pod',
        30_000,
      );
      for (const e of [exec, connect]) {
        expect(e.enrichment).toBe('complete');
        expect(e.meta?.attributes).toMatchObject({
          'k8s.node.name': NODE,
          'k8s.namespace.name': 'shop',
          'k8s.pod.name': 'api-6d4f9-q8r2t',
          'k8s.pod.uid': uid,
          'k8s.container.name': 'server',
          'container.id': pod.containerId,
          'container.runtime.name': 'containerd',
          'k8s.replicaset.name': 'api-6d4f9',
          'k8s.deployment.name': 'api',
          'service.name': 'api',
        });
      }
      expect(pod.containerId).toMatch(/^[0-9a-f]{64}$/);
      const json = JSON.parse(formatJson(connect)) as Record<string, unknown>;
      expect(json).toMatchObject({
        'event.name': 'tcp.connect',
        'k8s.pod.name': 'api-6d4f9-q8r2t',
        'server.port': port,
      });
    }, 60_000);
  },
);
