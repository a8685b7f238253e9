import type { CriClient } from '../enrich/cri/cri-client';
import type { CriConfig, KubernetesConfig } from '../enrich/enrich-config';
import { lookupPodInCri } from './cri-pod-lookup';
import type { CriLookup } from './cri-pod-lookup';
import { lookupPodInApi } from './kube-pod-lookup';
import type { ApiPod } from './kube-pod-lookup';
import { TargetError } from './pod-target';
import type { PodQuery, PodTarget, TargetContainer } from './pod-target';

export interface LocateOptions {
  nodeName: string;
  kubernetes: KubernetesConfig;
  cri: CriConfig;
  /** The podtrace command line to repeat in the "run it on node X" hint (`trace -n shop api-0`). */
  commandLine: string;
  /** Non-fatal notes (API unreachable, resolved through CRI only), one line each. */
  warn: (line: string) => void;
  /** Kubernetes API request timeout. */
  apiTimeoutMs?: number;
}

export interface LocatedPod {
  target: PodTarget;
  /** The CRI connection the pod was found on (exec asks it for a container's pid); null without CRI. */
  cri: CriClient | null;
}

const NO_CREDENTIALS = 'no Kubernetes credentials (in-cluster, enrich.kubernetes.kubeconfig, KUBECONFIG)';

/** API containers (spec order, images) with the runtime's ids and states where CRI knows them. */
function mergeContainers(api: TargetContainer[], cri: TargetContainer[] | null): TargetContainer[] {
  if (cri === null) return api;
  const byName = new Map(cri.map((c) => [c.name, c]));
  const out = api.map((a) => {
    const c = byName.get(a.name);
    return c === undefined ? a : { ...a, id: c.id ?? a.id, state: c.state, image: a.image || c.image };
  });
  // Containers only the runtime knows (an API view older than the runtime's) are kept too.
  for (const c of cri) if (!api.some((a) => a.name === c.name)) out.push(c);
  return out;
}

function otherNodeHint(node: string, commandLine: string): string {
  return (
    `run podtrace on node ${node}, e.g. kubectl exec -n podtrace ` +
    `$(kubectl get pod -n podtrace -l app.kubernetes.io/name=podtrace --field-selector spec.nodeName=${node} -o name) ` +
    `-- podtrace ${commandLine}`
  );
}

function fromApi(q: PodQuery, pod: ApiPod, cri: CriLookup, nodeName: string): PodTarget {
  const found = cri.kind === 'found' ? cri : null;
  return {
    namespace: q.namespace,
    name: q.name,
    uid: pod.uid,
    node: pod.node || nodeName,
    owner: pod.owner,
    containers: mergeContainers(pod.containers, found?.pod.containers ?? null),
    hostNetwork: pod.hostNetwork,
    sandboxId: found?.pod.sandboxId ?? null,
    resolvedBy: found !== null ? 'kubernetes+cri' : 'kubernetes',
    criEndpoint: found?.endpoint ?? null,
    runtime: found?.runtime ?? null,
  };
}

/**
 * Resolves `-n NAMESPACE POD` on this node: through the Kubernetes API when credentials exist
 * (which also says when the pod runs elsewhere, and names its owner workload), and the CRI runtime
 * (containerd or CRI-O: sandbox, container ids, states, host network). Without credentials, or
 * with the API unreachable, the runtime's sandbox labels alone name the pod. Every failure is a
 * TargetError whose message is one line.
 */
export async function locatePod(q: PodQuery, o: LocateOptions): Promise<LocatedPod> {
  const api = await lookupPodInApi(o.kubernetes, q.namespace, q.name, o.apiTimeoutMs);
  const who = `pod ${q.namespace}/${q.name}`;
  if (api.kind === 'not-found')
    throw new TargetError(
      `pod "${q.name}" not found in namespace "${q.namespace}" (Kubernetes API ${api.server})`,
    );
  if (api.kind === 'found') {
    const cri = await lookupPodInCri(o.cri, q.namespace, q.name, api.pod.uid);
    const client = cri.kind === 'found' ? cri.client : null;
    try {
      if (api.pod.node !== '' && api.pod.node !== o.nodeName) {
        if (cri.kind !== 'found')
          throw new TargetError(
            `${who} runs on node ${api.pod.node}, not on this node (${o.nodeName}): ${otherNodeHint(api.pod.node, o.commandLine)}`,
          );
        o.warn(
          `${who} is on node ${api.pod.node} according to the API and this node's runtime runs it: this node's name is ${api.pod.node}, not ${o.nodeName} (set NODE_NAME)`,
        );
      }
      if (api.pod.node === '')
        throw new TargetError(`${who} is not running (phase ${api.pod.phase}, not scheduled to a node yet)`);
      if (api.pod.phase !== 'Running')
        throw new TargetError(`${who} is not running (phase ${api.pod.phase})`);
      if (cri.kind === 'not-found')
        throw new TargetError(
          `${who} (uid ${api.pod.uid}) runs on node ${api.pod.node} according to the API, but the CRI runtime at ${cri.endpoint} has no sandbox for it`,
        );
      if (cri.kind === 'unreachable')
        o.warn(`${cri.error}: using the Kubernetes API's view of ${who} (container processes from cgroups)`);
      return { target: fromApi(q, api.pod, cri, o.nodeName), cri: client };
    } catch (err) {
      client?.close();
      throw err;
    }
  }
  const why = api.kind === 'no-credentials' ? NO_CREDENTIALS : `Kubernetes API unreachable (${api.error})`;
  const cri = await lookupPodInCri(o.cri, q.namespace, q.name, null);
  if (cri.kind === 'unreachable') throw new TargetError(`cannot look up ${who}: ${why}, and ${cri.error}`);
  if (api.kind === 'unreachable') o.warn(`${why}: resolving ${who} through the CRI runtime only`);
  if (cri.kind === 'not-found')
    throw new TargetError(
      `pod "${q.name}" not found in namespace "${q.namespace}" on this node (CRI ${cri.runtime} at ${cri.endpoint}; ${why}, so pods on other nodes are not visible)`,
    );
  if (!cri.pod.ready) {
    cri.client.close();
    throw new TargetError(`${who} is not running (its sandbox on ${cri.endpoint} is not ready)`);
  }
  return {
    cri: cri.client,
    target: {
      namespace: q.namespace,
      name: q.name,
      uid: cri.pod.uid,
      node: o.nodeName,
      owner: null,
      containers: cri.pod.containers,
      hostNetwork: cri.pod.hostNetwork,
      sandboxId: cri.pod.sandboxId,
      resolvedBy: 'cri',
      criEndpoint: cri.endpoint,
      runtime: cri.runtime,
    },
  };
}
