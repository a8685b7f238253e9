import { errorMessage } from '../core/errors';
import { CriClient } from '../enrich/cri/cri-client';
import type { CriContainer, CriPodSandbox } from '../enrich/cri/cri-client';
import { probeCri } from '../enrich/cri/cri-probe';
import {
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from '../enrich/cri/cri-store';
import type { CriConfig } from '../enrich/enrich-config';
import type { TargetContainer } from './pod-target';

/** A pod sandbox and its containers as the CRI runtime lists them. */
export interface CriPod {
  sandboxId: string;
  uid: string;
  ready: boolean;
  /** From the sandbox status: network namespace mode NODE. null when the runtime did not say. */
  hostNetwork: boolean | null;
  containers: TargetContainer[];
}

export type CriLookup =
  | { kind: 'unreachable'; error: string }
  | { kind: 'not-found'; endpoint: string; runtime: string }
  | { kind: 'found'; endpoint: string; runtime: string; pod: CriPod; client: CriClient };

const STATES: Readonly<Record<string, string>> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

function matches(s: CriPodSandbox, namespace: string, name: string, uid: string | null): boolean {
  if (uid !== null) return (s.metadata?.uid ?? s.labels[LABEL_POD_UID]) === uid;
  return (
    (s.metadata?.name ?? s.labels[LABEL_POD_NAME]) === name &&
    (s.metadata?.namespace ?? s.labels[LABEL_POD_NAMESPACE]) === namespace
  );
}

/** Sort order of CRI `created_at` (int64 nanoseconds as strings): newest first. */
function newestFirst(a: string, b: string): number {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  return x === y ? 0 : x > y ? -1 : 1;
}

/** The newest attempt of each container name (a restarted container leaves its exited attempts). */
function latestPerName(containers: CriContainer[]): CriContainer[] {
  const byName = new Map<string, CriContainer>();
  for (const c of containers) {
    const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? c.id;
    const prev = byName.get(name);
    const running = (x: CriContainer): number => Number(x.state === 'CONTAINER_RUNNING');
    if (
      prev === undefined ||
      running(c) > running(prev) ||
      (running(c) === running(prev) && newestFirst(c.createdAt, prev.createdAt) < 0)
    )
      byName.set(name, c);
  }
  return [...byName.values()];
}

/**
 * Finds the pod's sandbox on this node's CRI runtime (containerd or CRI-O): by uid when the API gave
 * one, else by kubelet's sandbox labels `io.kubernetes.pod.name` / `io.kubernetes.pod.namespace`.
 * Prefers a ready sandbox, then the newest. The returned client stays open for the caller (exec asks
 * it for the container's pid); close it when done.
 */
export async function lookupPodInCri(
  config: CriConfig,
  namespace: string,
  name: string,
  uid: string | null,
): Promise<CriLookup> {
  if (!config.enabled) return { kind: 'unreachable', error: 'CRI disabled (enrich.cri.enabled: false)' };
  const probe = await probeCri(config.endpoint, config.timeoutMs);
  if (probe.endpoint === null)
    return {
      kind: 'unreachable',
      error: `no CRI runtime answered (${probe.tried.map((t) => `${t.endpoint}: ${t.error ?? 'ok'}`).join('; ')})`,
    };
  const endpoint = probe.endpoint;
  const runtime = probe.runtimeName ?? '';
  const client = new CriClient(endpoint, config.timeoutMs);
  try {
    const sandboxes = (await client.listPodSandbox()).filter((s) => matches(s, namespace, name, uid));
    sandboxes.sort(
      (a, b) =>
        Number(b.state === 'SANDBOX_READY') - Number(a.state === 'SANDBOX_READY') ||
        newestFirst(a.createdAt, b.createdAt),
    );
    const sb = sandboxes[0];
    if (sb === undefined) {
      client.close();
      return { kind: 'not-found', endpoint, runtime };
    }
    const all = (await client.listContainers()).filter((c) => c.podSandboxId === sb.id);
    const containers = latestPerName(all).map((c) => ({
      name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? c.id,
      id: c.id,
      image: c.image?.image ?? '',
      state: STATES[c.state] ?? 'unknown',
    }));
    let hostNetwork: boolean | null = null;
    try {
      const st = await client.call<{
        status: { linux?: { namespaces?: { options?: { network?: string } } | null } | null } | null;
      }>('PodSandboxStatus', { podSandboxId: sb.id });
      const mode = st.status?.linux?.namespaces?.options?.network;
      if (mode !== undefined) hostNetwork = mode === 'NODE';
    } catch {
      // the kernel's answer (netns inode) is checked by exec anyway
    }
    return {
      kind: 'found',
      endpoint,
      runtime,
      client,
      pod: {
        sandboxId: sb.id,
        uid: sb.metadata?.uid ?? sb.labels[LABEL_POD_UID] ?? '',
        ready: sb.state === 'SANDBOX_READY',
        hostNetwork,
        containers,
      },
    };
  } catch (err) {
    client.close();
    return { kind: 'unreachable', error: `${endpoint}: ${errorMessage(err)}` };
  }
}
