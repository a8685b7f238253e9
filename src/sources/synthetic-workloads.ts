import type { WorkloadMeta } from '../events/workload-meta';

/**
 * Fake pods for the synthetic source and benchmarks: one frozen WorkloadMeta per container, shaped
 * like the enricher's (OTel semantic-convention attributes), and the cgroup id each container's
 * events carry. Deterministic: the same counts give the same ids, names and metadata.
 */
export interface SyntheticContainer {
  podIndex: number;
  containerIndex: number;
  cgroupId: number;
  /** pid of the container's main process (events use it and a few neighbours). */
  pid: number;
  comm: string;
  meta: WorkloadMeta;
}

export interface SyntheticWorkloads {
  containers: SyntheticContainer[];
  /** cgroup id → metadata: what a warm enrichment cache holds. */
  metaByCgroup: ReadonlyMap<number, WorkloadMeta>;
}

/** Synthetic cgroup ids start here (far from the small inode numbers of a real host's root cgroups). */
export const SYNTHETIC_CGROUP_BASE = 1_000_000;
const NAMESPACES = ['default', 'payments', 'checkout', 'search', 'platform'];
const APPS = ['api', 'worker', 'frontend', 'cache', 'gateway', 'indexer'];
const CONTAINERS = ['app', 'sidecar', 'proxy', 'init', 'log', 'metrics'];
const COMMS = ['java', 'node', 'python3', 'envoy', 'nginx', 'redis-server'];

function hex(n: number, width: number): string {
  // A stable pseudo-random hex string (xorshift), width characters.
  let x = (n * 2654435761) >>> 0 || 1;
  let out = '';
  while (out.length < width) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, width);
}

export function podUid(podIndex: number): string {
  const h = hex(podIndex + 1, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The frozen metadata of container `containerIndex` of pod `podIndex`. */
export function syntheticWorkloadMeta(
  podIndex: number,
  containerIndex: number,
  nodeName: string,
): WorkloadMeta {
  const namespace = NAMESPACES[podIndex % NAMESPACES.length] as string;
  const app = `${APPS[podIndex % APPS.length] as string}-${Math.floor(podIndex / APPS.length)}`;
  const podName = `${app}-${hex(podIndex + 7, 10)}-${hex(podIndex + 11, 5)}`;
  const containerName = CONTAINERS[containerIndex % CONTAINERS.length] as string;
  const containerId = hex(podIndex * 64 + containerIndex + 1000, 64);
  const uid = podUid(podIndex);
  const attributes: Record<string, string> = {
    'k8s.node.name': nodeName,
    'k8s.namespace.name': namespace,
    'k8s.pod.name': podName,
    'k8s.pod.uid': uid,
    'k8s.container.name': containerName,
    'container.id': containerId,
    'container.image.name': `registry.example/${app}`,
    'container.runtime.name': 'containerd',
    'k8s.deployment.name': app,
    'k8s.replicaset.name': `${app}-${hex(podIndex + 7, 10)}`,
    'k8s.pod.label.app': app,
    'k8s.pod.label.team': namespace,
    'service.name': app,
    'service.namespace': namespace,
  };
  return Object.freeze({
    host: false,
    namespace,
    podName,
    podUid: uid,
    containerName,
    containerId,
    serviceName: app,
    serviceNamespace: namespace,
    attributes: Object.freeze(attributes),
  });
}

export function syntheticWorkloads(
  pods: number,
  containersPerPod: number,
  nodeName = 'synthetic-node',
): SyntheticWorkloads {
  const containers: SyntheticContainer[] = [];
  const metaByCgroup = new Map<number, WorkloadMeta>();
  for (let p = 0; p < pods; p++) {
    for (let c = 0; c < containersPerPod; c++) {
      const i = p * containersPerPod + c;
      const meta = syntheticWorkloadMeta(p, c, nodeName);
      const cgroupId = SYNTHETIC_CGROUP_BASE + i;
      containers.push({
        podIndex: p,
        containerIndex: c,
        cgroupId,
        pid: 10_000 + i * 16,
        comm: COMMS[i % COMMS.length] as string,
        meta,
      });
      metaByCgroup.set(cgroupId, meta);
    }
  }
  return { containers, metaByCgroup };
}
