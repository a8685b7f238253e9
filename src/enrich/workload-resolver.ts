import type { WorkloadMeta } from '../events/workload-meta';
import type { CgroupClass } from './cgroup/cgroup-layout';
import type { CriStore } from './cri/cri-store';
import type { KubeStore } from './kube/kube-store';
import type { ContainerFacts } from './meta/workload-meta-builder';
import { buildWorkloadMeta } from './meta/workload-meta-builder';

/** A container's or pod's cgroup, as its path classified it. */
export type WorkloadCgroup = Extract<CgroupClass, { kind: 'container' } | { kind: 'pod' }>;

/** What is known now about the workload of one cgroup. */
export interface Workload {
  facts: ContainerFacts;
  /** One frozen object shared by every cgroup with the same facts. */
  meta: WorkloadMeta;
  /** `partial` until both the container and its pod (with its owner's parent) are known. */
  outcome: 'complete' | 'partial';
}

/**
 * Puts together a cgroup's workload from what CRI and the Kubernetes API know (no I/O) and keeps
 * one frozen WorkloadMeta per distinct answer, so every event of a container shares it.
 */
export class WorkloadResolver {
  private readonly metas = new Map<string, WorkloadMeta>();

  constructor(
    private readonly cri: CriStore,
    private readonly kube: KubeStore,
    private readonly options: { nodeName: string; copyLabels: readonly string[] },
  ) {}

  /** Distinct WorkloadMeta objects kept. */
  get size(): number {
    return this.metas.size;
  }

  of(c: WorkloadCgroup): Workload {
    const { cri, kube } = this;
    const containerId = c.kind === 'container' ? c.containerId : null;
    const criContainer = containerId === null ? undefined : cri.container(containerId);
    const podUid = c.podUid ?? criContainer?.podUid ?? null;
    const sandbox =
      (containerId === null ? undefined : cri.sandbox(containerId)) ??
      (podUid === null ? undefined : cri.sandboxOfPod(podUid));
    const pod = podUid === null ? undefined : kube.podByUid(podUid);
    const fromApi = containerId === null ? undefined : pod?.containers.get(containerId);
    const isSandbox = containerId !== null && cri.sandbox(containerId) !== undefined;
    const facts: ContainerFacts = {
      containerId,
      containerName: criContainer?.name ?? fromApi?.name ?? null,
      image: criContainer?.image ?? fromApi?.image ?? null,
      runtime: cri.runtimeName !== '' ? cri.runtimeName : c.kind === 'container' ? c.runtime : null,
      podUid,
      podName: pod?.name ?? criContainer?.podName ?? sandbox?.podName ?? null,
      namespace: pod?.namespace ?? criContainer?.namespace ?? sandbox?.namespace ?? null,
      labels: pod?.labels ?? sandbox?.labels ?? {},
      annotations: pod?.annotations ?? sandbox?.annotations ?? {},
      owner: pod?.owner ?? null,
    };
    const containerKnown = facts.containerName !== null || isSandbox || c.kind === 'pod';
    // A pod whose owner's parent (Deployment, CronJob) is still being looked up is not complete yet.
    const podKnown =
      (pod !== undefined && kube.ownerSettled(pod.uid)) || (!kube.active && facts.podName !== null);
    const o = facts.owner;
    const parent =
      o !== null && (o.kind === 'ReplicaSet' || o.kind === 'Job') && facts.namespace !== null
        ? kube.parentOf(o.kind, facts.namespace, o.name)
        : null;
    const sig = `${containerId ?? ''}|${podUid ?? ''}|${facts.containerName ?? ''}|${facts.podName ?? ''}|${pod?.resourceVersion ?? ''}|${sandbox?.id ?? ''}|${parent?.name ?? ''}`;
    let meta = this.metas.get(sig);
    if (meta === undefined) {
      meta = buildWorkloadMeta(facts, {
        nodeName: this.options.nodeName,
        copyLabels: this.options.copyLabels,
        lookupParent: (kind, ns, name) => kube.parentOf(kind, ns, name),
      });
      this.metas.set(sig, meta);
    }
    return { facts, meta, outcome: containerKnown && podKnown ? 'complete' : 'partial' };
  }

  /** Forgets every kept WorkloadMeta not in `used`. */
  prune(used: Iterable<WorkloadMeta | null>): void {
    const keep = new Set<WorkloadMeta | null>(used);
    for (const [k, m] of this.metas) if (!keep.has(m)) this.metas.delete(k);
  }
}
