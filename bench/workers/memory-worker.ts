/**
 * Memory under metadata load (PROVISIONAL until the real enricher lands): builds, in one process,
 * structures shaped like the enricher's caches — an informer store of V1Pod-like objects for
 * `pods` pods, one frozen WorkloadMeta per container, and a cgroup id → resolution map with
 * `cgroups` entries — and reports RSS and heap before and after. Run with --expose-gc.
 */
import type { WorkloadMeta } from '../../src/events/workload-meta';
import { podUid, syntheticWorkloadMeta } from '../../src/sources/synthetic-workloads';

export interface MemoryArgs {
  pods: number;
  containersPerPod: number;
  cgroups: number;
}

export interface MemoryResult {
  rssBaselineBytes: number;
  rssBytes: number;
  heapUsedDeltaBytes: number;
  pods: number;
  containers: number;
  cgroups: number;
}

/** Roughly what @kubernetes/client-node deserialises for a Deployment's pod (fields the informer keeps). */
function podObject(p: number, containers: number, meta: WorkloadMeta): Record<string, unknown> {
  const labels: Record<string, string> = {
    app: meta.serviceName,
    team: meta.serviceNamespace,
    'pod-template-hash': `h${p.toString(16)}`,
    'app.kubernetes.io/name': meta.serviceName,
    'app.kubernetes.io/version': `1.${p % 10}.0`,
    tier: p % 2 === 0 ? 'backend' : 'frontend',
  };
  const cs = Array.from({ length: containers }, (_, c) => ({
    name: `c${c}`,
    image: `registry.example/${meta.serviceName}:1.${p % 10}.0`,
    ports: [{ containerPort: 8080 + c, protocol: 'TCP', name: 'http' }],
    env: Array.from({ length: 5 }, (_, i) => ({ name: `ENV_${i}`, value: `value-${p}-${i}` })),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    volumeMounts: [
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: meta.podName,
      namespace: meta.namespace,
      uid: podUid(p),
      resourceVersion: String(100000 + p),
      creationTimestamp: new Date(1_760_000_000_000 + p * 1000),
      labels,
      annotations: {
        'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z',
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${meta.serviceName}-rs`,
          uid: podUid(p + 1e6),
          controller: true,
        },
      ],
    },
    spec: { nodeName: 'bench-node', serviceAccountName: 'default', containers: cs },
    status: {
      phase: 'Running',
      podIP: `10.244.${(p >> 8) & 255}.${p & 255}`,
      hostIP: '10.0.0.5',
      containerStatuses: cs.map((c, i) => ({
        name: c.name,
        containerID: `containerd://${podUid(p * 64 + i).replace(/-/g, '')}${'0'.repeat(32)}`,
        image: c.image,
        imageID: `registry.example/${meta.serviceName}@sha256:${'ab'.repeat(32)}`,
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: new Date(1_760_000_000_000) } },
      })),
    },
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as MemoryArgs;
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const store = new Map<string, Record<string, unknown>>();
  const metaByContainer = new Map<string, WorkloadMeta>();
  const metas: WorkloadMeta[] = [];
  for (let p = 0; p < args.pods; p++) {
    for (let c = 0; c < args.containersPerPod; c++) {
      const m = syntheticWorkloadMeta(p, c, 'bench-node');
      metaByContainer.set(m.containerId as string, m);
      metas.push(m);
    }
    const first = metas[metas.length - args.containersPerPod] as WorkloadMeta;
    store.set(`${first.namespace ?? ''}/${first.podName ?? ''}`, podObject(p, args.containersPerPod, first));
  }
  // cgroups seen: containers' cgroups plus the churn of exited containers and host slices, each
  // resolved once to an entry the event path looks up by id.
  interface CgroupEntry {
    containerId: string | null;
    meta: WorkloadMeta | null;
    resolvedAtMs: number;
    path: string;
  }
  const cgroups = new Map<number, CgroupEntry>();
  for (let i = 0; i < args.cgroups; i++) {
    const m = i < metas.length * 4 ? (metas[i % metas.length] as WorkloadMeta) : null;
    cgroups.set(1_000_000 + i, {
      containerId: m?.containerId ?? null,
      meta: m,
      resolvedAtMs: 1_760_000_000_000 + i,
      path: m
        ? `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${(m.podUid ?? '').replace(/-/g, '_')}.slice/cri-containerd-${m.containerId ?? ''}.scope`
        : `/system.slice/session-${i}.scope`,
    });
  }
  gc();
  const mem = process.memoryUsage();
  const result: MemoryResult = {
    rssBaselineBytes: rss0,
    rssBytes: mem.rss,
    heapUsedDeltaBytes: mem.heapUsed - heap0,
    pods: store.size,
    containers: metaByContainer.size,
    cgroups: cgroups.size,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
