import { PermanentError } from '../core/errors';

/** One container of the pod being traced or entered. */
export interface TargetContainer {
  name: string;
  /** 64-hex container id (runtime prefix stripped); null while the container was never created. */
  id: string | null;
  image: string;
  /** `running`, `created`, `exited`, `waiting` (API: not started yet) or `unknown`. */
  state: string;
}

/** A pod resolved by name on this node: what `trace`, `--diagnose` and `exec` work on. */
export interface PodTarget {
  namespace: string;
  name: string;
  uid: string;
  /** The node the pod runs on (this node). */
  node: string;
  /** The owning workload, top level (Deployment over ReplicaSet, CronJob over Job), null for a bare pod. */
  owner: { kind: string; name: string } | null;
  containers: TargetContainer[];
  /** true when the pod shares the node's network namespace; null when unknown. */
  hostNetwork: boolean | null;
  /** CRI pod sandbox id, null when the runtime was not reachable. */
  sandboxId: string | null;
  /** Where the pod was found: the Kubernetes API, the CRI runtime, or both. */
  resolvedBy: 'kubernetes' | 'cri' | 'kubernetes+cri';
  /** The CRI endpoint that answered and its runtime name (`containerd`, `cri-o`), null without CRI. */
  criEndpoint: string | null;
  runtime: string | null;
}

/** The pod, its namespace and (optionally) one container, as the user named them. */
export interface PodQuery {
  namespace: string;
  name: string;
  container?: string;
}

/**
 * The pod cannot be used: not found, on another node, not running, a container name that is not in
 * it, no way to look it up. The message is the one line the CLI prints.
 */
export class TargetError extends PermanentError {}

/** The container a command applies to: the named one, else the only (or first running) one. */
export function pickContainer(target: PodTarget, name: string | undefined): TargetContainer {
  const names = target.containers.map((c) => c.name).join(', ');
  if (name !== undefined) {
    const c = target.containers.find((x) => x.name === name);
    if (c === undefined)
      throw new TargetError(
        `container "${name}" is not in pod ${target.namespace}/${target.name} (containers: ${names || 'none'})`,
      );
    return c;
  }
  const running = target.containers.filter((c) => c.state === 'running');
  const c = running[0] ?? target.containers[0];
  if (c === undefined) throw new TargetError(`pod ${target.namespace}/${target.name} has no containers yet`);
  return c;
}

/** Throws unless the container runs (exec needs a live process to take namespaces from). */
export function requireRunning(target: PodTarget, c: TargetContainer): void {
  if (c.state !== 'running')
    throw new TargetError(
      `container "${c.name}" of pod ${target.namespace}/${target.name} is not running (${c.state})`,
    );
}
