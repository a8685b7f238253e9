/** The controller of a pod as its ownerReference names it. */
export interface OwnerRef {
  kind: string;
  name: string;
}

/** The owner chain attributes of a pod, as OTel keys (`k8s.deployment.name`, ...). */
export interface ResolvedOwner {
  attributes: Record<string, string>;
  /** The top-level workload's name (Deployment over ReplicaSet, CronJob over Job), null for bare pods. */
  workloadName: string | null;
}

const KIND_ATTRIBUTE: Readonly<Record<string, string>> = {
  ReplicaSet: 'k8s.replicaset.name',
  Deployment: 'k8s.deployment.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

/**
 * Walks a pod's controller up one level where Kubernetes has one: ReplicaSet → Deployment, Job →
 * CronJob (from the owner cache's named lookups; `lookupParent` returns the parent or null when
 * the object or its owner is unknown). StatefulSet and DaemonSet own pods directly.
 */
export function resolveOwner(
  namespace: string,
  owner: OwnerRef | null,
  lookupParent: (kind: 'ReplicaSet' | 'Job', namespace: string, name: string) => OwnerRef | null,
): ResolvedOwner {
  const attributes: Record<string, string> = {};
  if (owner === null) return { attributes, workloadName: null };
  const key = KIND_ATTRIBUTE[owner.kind];
  if (key !== undefined) attributes[key] = owner.name;
  let top: OwnerRef = owner;
  if (owner.kind === 'ReplicaSet' || owner.kind === 'Job') {
    const parent = lookupParent(owner.kind, namespace, owner.name);
    if (parent !== null) {
      const pkey = KIND_ATTRIBUTE[parent.kind];
      if (pkey !== undefined) attributes[pkey] = parent.name;
      top = parent;
    }
  }
  return { attributes, workloadName: top.name };
}
