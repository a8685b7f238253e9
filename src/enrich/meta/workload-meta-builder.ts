import type { WorkloadMeta } from '../../events/workload-meta';
import type { OwnerRef } from './owner';
import { resolveOwner } from './owner';
import { deriveServiceName } from './service-name';

/** Everything known about one container, from the cgroup path, CRI and the Kubernetes API. */
export interface ContainerFacts {
  containerId: string | null;
  containerName: string | null;
  image: string | null;
  runtime: string | null;
  podUid: string | null;
  podName: string | null;
  namespace: string | null;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  owner: OwnerRef | null;
}

/** The one frozen meta shared by every host-process event. */
export function hostMeta(nodeName: string): WorkloadMeta {
  return Object.freeze({
    host: true,
    namespace: null,
    podName: null,
    podUid: null,
    containerName: null,
    containerId: null,
    serviceName: '',
    serviceNamespace: 'host',
    attributes: Object.freeze({ 'k8s.node.name': nodeName }),
  });
}

/** Labels kubelet adds to sandboxes; not pod labels. */
const KUBELET_LABEL_PREFIX = 'io.kubernetes.';

/**
 * Builds the frozen WorkloadMeta of a container with OTel attribute names. Called once per
 * container (and again only when its pod changes), never per event.
 */
export function buildWorkloadMeta(
  facts: ContainerFacts,
  options: {
    nodeName: string;
    copyLabels: readonly string[];
    lookupParent: (kind: 'ReplicaSet' | 'Job', namespace: string, name: string) => OwnerRef | null;
  },
): WorkloadMeta {
  const a: Record<string, string> = { 'k8s.node.name': options.nodeName };
  const set = (k: string, v: string | null): void => {
    if (v !== null && v !== '') a[k] = v;
  };
  set('k8s.namespace.name', facts.namespace);
  set('k8s.pod.name', facts.podName);
  set('k8s.pod.uid', facts.podUid);
  set('k8s.container.name', facts.containerName);
  set('container.id', facts.containerId);
  set('container.image.name', facts.image);
  set('container.runtime.name', facts.runtime);
  const owner =
    facts.namespace === null
      ? { attributes: {}, workloadName: null }
      : resolveOwner(facts.namespace, facts.owner, options.lookupParent);
  Object.assign(a, owner.attributes);
  for (const l of options.copyLabels) {
    const v = facts.labels[l];
    if (v !== undefined && !l.startsWith(KUBELET_LABEL_PREFIX)) a[`k8s.pod.label.${l}`] = v;
  }
  const serviceName =
    facts.podName === null
      ? (facts.containerName ?? facts.containerId?.slice(0, 12) ?? '')
      : deriveServiceName({
          annotations: facts.annotations,
          labels: facts.labels,
          workloadName: owner.workloadName,
          podName: facts.podName,
        });
  const serviceNamespace = facts.namespace ?? '';
  set('service.name', serviceName);
  set('service.namespace', serviceNamespace);
  return Object.freeze({
    host: false,
    namespace: facts.namespace,
    podName: facts.podName,
    podUid: facts.podUid,
    containerName: facts.containerName,
    containerId: facts.containerId,
    serviceName,
    serviceNamespace,
    attributes: Object.freeze(a),
  });
}
