import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../core/errors';
import type { KubernetesConfig } from '../enrich/enrich-config';
import { loadKubeConfig } from '../enrich/kube/kube-store';
import type { TargetContainer } from './pod-target';

/** A pod as the API server describes it (only what a target needs). */
export interface ApiPod {
  uid: string;
  node: string;
  phase: string;
  hostNetwork: boolean;
  /** The direct controller (ReplicaSet, Job, StatefulSet, DaemonSet, ...). */
  controller: { kind: string; name: string } | null;
  /** The top workload after one lookup up the chain (Deployment, CronJob), or the controller. */
  owner: { kind: string; name: string } | null;
  containers: TargetContainer[];
}

export type KubeLookup =
  | { kind: 'no-credentials' }
  | { kind: 'unreachable'; error: string }
  | { kind: 'not-found'; server: string }
  | { kind: 'found'; server: string; pod: ApiPod };

/** How long one API request may take before the lookup falls back to CRI. */
export const KUBE_LOOKUP_TIMEOUT_MS = 5000;

function controllerOf(refs: V1OwnerReference[] | undefined): { kind: string; name: string } | null {
  const c = refs?.find((r) => r.controller === true) ?? refs?.[0];
  return c === undefined ? null : { kind: c.kind, name: c.name };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function containersOf(p: V1Pod): TargetContainer[] {
  const statuses = new Map((p.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  return (p.spec?.containers ?? []).map((c) => {
    const s = statuses.get(c.name);
    const id = s?.containerID?.replace(/^[a-z-]+:\/\//, '') ?? '';
    const state =
      s?.state?.running !== undefined ? 'running' : s?.state?.terminated !== undefined ? 'exited' : 'waiting';
    return { name: c.name, id: id === '' ? null : id, image: s?.image ?? c.image ?? '', state };
  });
}

/** An API error as one short phrase (`HTTP 403 Forbidden: pods is forbidden …`, `ECONNREFUSED …`). */
function apiError(err: unknown): string {
  const e = err as { code?: number; statusCode?: number; body?: unknown };
  const code = e.code ?? e.statusCode;
  if (typeof code === 'number') {
    let msg = '';
    try {
      const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string };
      msg = body?.message ?? '';
    } catch {
      // body not JSON
    }
    return `HTTP ${code}${msg !== '' ? `: ${msg}` : ''}`;
  }
  return errorMessage(err).split('\n')[0] ?? 'error';
}

/**
 * Looks the pod up on the Kubernetes API with the agent's credentials (enrich.kubernetes.kubeconfig,
 * in-cluster, KUBECONFIG): one namespaced list by name (RBAC `list pods`, as the agent needs), and
 * for a ReplicaSet or Job owner one more list to name the Deployment or CronJob above it.
 */
export async function lookupPodInApi(
  config: KubernetesConfig,
  namespace: string,
  name: string,
  timeoutMs = KUBE_LOOKUP_TIMEOUT_MS,
): Promise<KubeLookup> {
  if (!config.enabled) return { kind: 'no-credentials' };
  const k8s = await import('@kubernetes/client-node');
  let kc;
  try {
    kc = loadKubeConfig(k8s, config.kubeconfig);
  } catch (err) {
    return { kind: 'unreachable', error: `kubeconfig: ${errorMessage(err)}` };
  }
  if (kc === null) return { kind: 'no-credentials' };
  const server = kc.getCurrentCluster()?.server ?? '?';
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let pod: V1Pod | undefined;
  try {
    const list = await withTimeout(
      core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${name}` }),
      timeoutMs,
      server,
    );
    pod = list.items.find((p) => p.metadata?.name === name && p.metadata.namespace === namespace);
  } catch (err) {
    return { kind: 'unreachable', error: `${server}: ${apiError(err)}` };
  }
  if (pod === undefined) return { kind: 'not-found', server };
  const controller = controllerOf(pod.metadata?.ownerReferences);
  let owner = controller;
  if (controller !== null && (controller.kind === 'ReplicaSet' || controller.kind === 'Job')) {
    // One level up (Deployment, CronJob); a failure keeps the direct controller.
    try {
      const fieldSelector = `metadata.name=${controller.name}`;
      const list =
        controller.kind === 'ReplicaSet'
          ? await withTimeout(
              kc.makeApiClient(k8s.AppsV1Api).listNamespacedReplicaSet({ namespace, fieldSelector }),
              timeoutMs,
              server,
            )
          : await withTimeout(
              kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace, fieldSelector }),
              timeoutMs,
              server,
            );
      const parent = controllerOf(list.items[0]?.metadata?.ownerReferences);
      if (parent !== null) owner = parent;
    } catch {
      // owner stays the direct controller
    }
  }
  return {
    kind: 'found',
    server,
    pod: {
      uid: pod.metadata?.uid ?? '',
      node: pod.spec?.nodeName ?? '',
      phase: pod.status?.phase ?? 'Unknown',
      hostNetwork: pod.spec?.hostNetwork === true,
      controller,
      owner,
      containers: containersOf(pod),
    },
  };
}
