import type { OwnerRef } from '../meta/owner';
import { controllerOf } from './kube-metadata-client';

/** The part of a Pod podtrace keeps (never the whole object). */
export interface SlimPod {
  uid: string;
  name: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  owner: OwnerRef | null;
  /** container id (64 hex, runtime prefix stripped) → container name and image, from status.containerStatuses. */
  containers: ReadonlyMap<string, { name: string; image: string }>;
  resourceVersion: string;
}

interface RawContainerStatus {
  name?: string;
  image?: string;
  containerID?: string;
}

/**
 * A Pod as the API server's JSON has it, typed for the fields podtrace reads; everything else in
 * the answer (spec, managedFields, conditions …) is parsed by JSON.parse and dropped with the page.
 */
export interface RawPod {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  status?: {
    containerStatuses?: RawContainerStatus[];
    initContainerStatuses?: RawContainerStatus[];
  };
}

const RUNTIME_PREFIX = /^[a-z-]+:\/\//;

/** The slim copy of a pod; it shares no object with `p`, so the parsed answer can be freed. */
export function slimPod(p: RawPod): SlimPod {
  const containers = new Map<string, { name: string; image: string }>();
  for (const list of [p.status?.containerStatuses, p.status?.initContainerStatuses])
    for (const s of list ?? []) {
      const id = s.containerID?.replace(RUNTIME_PREFIX, '');
      if (id !== undefined && id !== '') containers.set(id, { name: s.name ?? '', image: s.image ?? '' });
    }
  return {
    uid: p.metadata?.uid ?? '',
    name: p.metadata?.name ?? '',
    namespace: p.metadata?.namespace ?? '',
    labels: Object.freeze({ ...(p.metadata?.labels ?? {}) }),
    annotations: Object.freeze({ ...(p.metadata?.annotations ?? {}) }),
    owner: controllerOf(p.metadata?.ownerReferences),
    containers,
    resourceVersion: p.metadata?.resourceVersion ?? '',
  };
}
