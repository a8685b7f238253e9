import { existsSync } from 'node:fs';
import type * as K8s from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, ListWatch, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../core/logger';
import { errorMessage } from '../../core/errors';
import type { Metrics } from '../../telemetry/metrics';
import type { KubernetesConfig } from '../enrich-config';
import type { OwnerRef } from '../meta/owner';
import { KubeMetadataClient, controllerOf } from './kube-metadata-client';
import type { OwnedKind } from './kube-metadata-client';
import { OWNER_FETCH_CONCURRENCY, OwnerCache } from './owner-cache';

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

export type KubeChangeListener = (podUid: string, removed: boolean) => void;

function slimPod(p: V1Pod): SlimPod {
  const containers = new Map<string, { name: string; image: string }>();
  const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])];
  for (const s of statuses) {
    const id = s.containerID?.replace(/^[a-z-]+:\/\//, '');
    if (id !== undefined && id !== '') containers.set(id, { name: s.name, image: s.image });
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

export type K8sModule = typeof K8s;

/**
 * The Kubernetes side of enrichment: watches the pods on this node (fieldSelector
 * spec.nodeName=<node>) and keeps slim copies indexed by pod uid; their owners' parents
 * (ReplicaSet → Deployment, Job → CronJob) come from an OwnerCache of named metadata GETs — no
 * cluster-wide list or watch. Watch expiry (410) relists (client-node's ListWatch does that); any
 * other error keeps the cache and restarts the watch with exponential backoff. Deleted pods stay
 * resolvable for the grace period.
 */
export class KubeStore {
  private readonly pods = new Map<string, SlimPod>();
  private readonly deleted = new Map<string, number>();
  private readonly listeners: KubeChangeListener[] = [];
  private readonly informers: ListWatch<KubernetesObject>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly backoff = new Map<string, number>();
  private owners: OwnerCache | null = null;
  private client: KubeMetadataClient | null = null;
  private stopped = false;
  /** true once the initial pod list arrived. */
  synced = false;
  /** false when disabled or when no credentials were found. */
  active = false;

  constructor(
    private readonly config: KubernetesConfig,
    private readonly nodeName: string,
    private readonly deletedGraceMs: number,
    private readonly deps: { logger: Logger; metrics: Metrics },
    private readonly now: () => number = Date.now,
  ) {}

  onChange(l: KubeChangeListener): void {
    this.listeners.push(l);
  }

  podByUid(uid: string): SlimPod | undefined {
    return this.pods.get(uid);
  }

  /** The owner of a ReplicaSet (→ Deployment) or Job (→ CronJob), null when unknown. */
  parentOf(kind: OwnedKind, namespace: string, name: string): OwnerRef | null {
    return this.owners?.parentOf(kind, namespace, name) ?? null;
  }

  /** False while the first lookup of the pod's owner's parent is under way. */
  ownerSettled(podUid: string): boolean {
    return this.owners?.settled(podUid) ?? true;
  }

  /** Owners cached now (at most enrich.kubernetes.maxOwners). */
  get ownersCached(): number {
    return this.owners?.size ?? 0;
  }

  /** Starts the pod informer in the background; resolves quickly, never throws. */
  async start(): Promise<void> {
    if (!this.config.enabled) return;
    this.stopped = false;
    // Until credentials are known to be missing, pods count as resolvable through the API.
    this.active = true;
    let k8s: K8sModule;
    let kc: KubeConfig | null;
    try {
      k8s = await import('@kubernetes/client-node');
      kc = loadKubeConfig(k8s, this.config.kubeconfig);
    } catch (err) {
      this.deps.logger.warn(
        { err: errorMessage(err) },
        'Kubernetes API client not usable; enriching from CRI only',
      );
      this.deps.metrics.lookupErrors.inc({ backend: 'kubernetes', reason: 'config' });
      this.active = false;
      return;
    }
    if (kc === null) {
      this.deps.logger.info(
        'no Kubernetes credentials (in-cluster, enrich.kubernetes.kubeconfig, KUBECONFIG); enriching from CRI only',
      );
      this.active = false;
      return;
    }
    const client = this.config.resolveOwners ? this.ownerClient(kc) : null;
    if (client !== null) {
      this.client = client;
      this.owners = new OwnerCache(
        (kind, namespace, name, signal) => client.ownerOf(kind, namespace, name, signal),
        {
          ttlMs: this.config.ownerTtlSeconds * 1000,
          maxEntries: this.config.maxOwners,
          backoffInitialMs: this.config.backoffInitialMs,
          backoffMaxMs: this.config.backoffMaxMs,
        },
        this.deps,
        (uids) => {
          for (const uid of uids) for (const l of this.listeners) l(uid, false);
        },
        this.now,
      );
      this.owners.start();
    }
    const watch = new k8s.Watch(kc);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    const pods = new k8s.ListWatch<V1Pod>(
      '/api/v1/pods',
      watch,
      async () => {
        const list = await this.listed('pods', core.listPodForAllNamespaces({ fieldSelector }));
        this.synced = true;
        return list;
      },
      false,
      undefined,
      fieldSelector,
    );
    this.follow('pods', pods, (p, removed) => this.putPod(p, removed));
    void this.startInformer('pods', pods);
  }

  /** The owner GET client; null (owners stay ReplicaSet / Job names) when the kubeconfig's proxy is unusable. */
  private ownerClient(kc: KubeConfig): KubeMetadataClient | null {
    try {
      return new KubeMetadataClient(kc, OWNER_FETCH_CONCURRENCY);
    } catch (err) {
      this.deps.logger.error(
        { err: errorMessage(err) },
        'owner lookups (Deployment, CronJob) disabled: the kubeconfig cannot be used for them',
      );
      this.deps.metrics.lookupErrors.inc({ backend: 'kubernetes', reason: 'owner_config' });
      return null;
    }
  }

  private follow<T extends KubernetesObject>(
    what: string,
    lw: ListWatch<T>,
    put: (o: T, removed: boolean) => void,
  ): void {
    this.informers.push(lw);
    lw.on('add', (o) => put(o, false));
    lw.on('update', (o) => put(o, false));
    lw.on('delete', (o) => put(o, true));
    lw.on('error', (err: unknown) => {
      // stop() aborts the open watches: their AbortErrors are the shutdown, not a failure.
      if (this.stopped) return;
      const backoff = this.backoff.get(what) ?? this.config.backoffInitialMs;
      // ListWatch stops on errors other than 410; the cache stays, the watch restarts after a backoff.
      const code =
        (err as { statusCode?: number; code?: unknown }).statusCode ?? (err as { code?: unknown }).code;
      this.deps.metrics.lookupErrors.inc({
        backend: 'kubernetes',
        reason: typeof code === 'number' ? `http_${code}` : 'unreachable',
      });
      this.deps.logger.warn(
        { what, err: errorMessage(err), retryInMs: backoff },
        'Kubernetes watch failed; serving cached metadata',
      );
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.startInformer(what, lw);
      }, backoff);
      t.unref();
      this.timers.add(t);
      this.backoff.set(what, Math.min(backoff * 2, this.config.backoffMaxMs));
    });
  }

  /** A list that succeeded resets the backoff of its informer. */
  private async listed<T>(what: string, list: Promise<T>): Promise<T> {
    const result = await list;
    this.backoff.delete(what);
    return result;
  }

  private async startInformer<T extends KubernetesObject>(what: string, lw: ListWatch<T>): Promise<void> {
    if (this.stopped) return;
    try {
      await lw.start();
    } catch (err) {
      this.deps.logger.warn({ what, err: errorMessage(err) }, 'Kubernetes informer did not start');
    }
  }

  private putPod(p: V1Pod, removed: boolean): void {
    const uid = p.metadata?.uid;
    if (uid === undefined) return;
    if (removed) {
      this.deleted.set(uid, this.now());
    } else {
      this.deleted.delete(uid);
      const known = this.pods.has(uid);
      const pod = slimPod(p);
      this.pods.set(uid, pod);
      this.owners?.track(uid, pod.namespace, pod.owner, known);
    }
    this.evictExpired();
    for (const l of this.listeners) l(uid, false);
  }

  /** Drops pods deleted longer than the grace period ago (called on changes and by the enricher's tick). */
  evictExpired(): void {
    const now = this.now();
    for (const [uid, at] of this.deleted) {
      if (now - at < this.deletedGraceMs) continue;
      this.deleted.delete(uid);
      this.pods.delete(uid);
      this.owners?.untrack(uid);
      for (const l of this.listeners) l(uid, true);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.owners?.stop();
    this.client?.close();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}

/**
 * Kubernetes credentials, in order: `enrich.kubernetes.kubeconfig`, in-cluster service account,
 * KUBECONFIG. null when there are none (podtrace then enriches from CRI alone).
 */
export function loadKubeConfig(k8s: K8sModule, kubeconfig: string): KubeConfig | null {
  const kc = new k8s.KubeConfig();
  if (kubeconfig !== '') {
    kc.loadFromFile(kubeconfig);
    return kc;
  }
  if (
    existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token') &&
    process.env.KUBERNETES_SERVICE_HOST !== undefined
  ) {
    kc.loadFromCluster();
    return kc;
  }
  const file = process.env.KUBECONFIG;
  if (file !== undefined && file !== '' && existsSync(file.split(':')[0] ?? '')) {
    kc.loadFromDefault();
    return kc;
  }
  return null;
}
