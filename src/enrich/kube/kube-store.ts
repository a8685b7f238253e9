import { existsSync } from 'node:fs';
import type * as K8s from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../core/logger';
import { errorMessage } from '../../core/errors';
import type { Metrics } from '../../telemetry/metrics';
import type { KubernetesConfig } from '../enrich-config';
import type { OwnerRef } from '../meta/owner';
import type { KubeCredentials } from './kube-credentials';
import { KubeconfigCredentials, SERVICE_ACCOUNT_DIR, inClusterCredentials } from './kube-credentials';
import { KubeMetadataClient } from './kube-metadata-client';
import type { OwnedKind } from './kube-metadata-client';
import { OWNER_FETCH_CONCURRENCY, OwnerCache } from './owner-cache';
import { PodListWatch } from './pod-list-watch';
import type { SlimPod } from './slim-pod';

export type { SlimPod } from './slim-pod';

export type KubeChangeListener = (podUid: string, removed: boolean) => void;

/** Connections of the pod list + watch client: the open watch and a list page beside it. */
const POD_CLIENT_SOCKETS = 2;
/** A list page not answering for this long is retried (a page of 500 pods is read from etcd at once). */
const POD_PAGE_TIMEOUT_MS = 30_000;

export type K8sModule = typeof K8s;

/**
 * The Kubernetes side of enrichment: watches the pods on this node (fieldSelector
 * spec.nodeName=<node>) and keeps slim copies indexed by pod uid; their owners' parents
 * (ReplicaSet → Deployment, Job → CronJob) come from an OwnerCache of named metadata GETs — no
 * cluster-wide list or watch. The list comes in pages and is parsed into slim copies as it arrives
 * (PodListWatch); expiry (410) relists, any other error keeps the cache and retries with
 * exponential backoff. Deleted pods stay resolvable for the grace period.
 */
export class KubeStore {
  private readonly pods = new Map<string, SlimPod>();
  private readonly deleted = new Map<string, number>();
  private readonly listeners: KubeChangeListener[] = [];
  private podWatch: PodListWatch | null = null;
  private owners: OwnerCache | null = null;
  private client: KubeMetadataClient | null = null;
  private podClient: KubeMetadataClient | null = null;
  /** true once the initial pod list arrived. */
  synced = false;
  /** false when disabled or when no credentials were found. */
  active = false;

  constructor(
    private readonly config: KubernetesConfig,
    private readonly nodeName: string,
    private readonly deletedGraceMs: number,
    private readonly deps: { logger: Logger; metrics: Metrics; serviceAccountDir?: string },
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
    // Until credentials are known to be missing, pods count as resolvable through the API.
    this.active = true;
    let kc: KubeCredentials | null;
    try {
      kc = await loadKubeCredentials(this.config.kubeconfig, process.env, this.deps.serviceAccountDir);
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
    // Never throws: a proxy this client cannot tunnel is left to the agent client-node makes for it.
    const podClient = new KubeMetadataClient(kc, POD_CLIENT_SOCKETS, POD_PAGE_TIMEOUT_MS, 'kubeconfig');
    this.podClient = podClient;
    this.podWatch = new PodListWatch(
      podClient,
      {
        nodeName: this.nodeName,
        pageSize: this.config.listPageSize,
        backoffInitialMs: this.config.backoffInitialMs,
        backoffMaxMs: this.config.backoffMaxMs,
      },
      {
        listed: (pods) => this.replacePods(pods),
        changed: (pod, removed) => this.putPod(pod, removed),
        failed: (reason, err, retryInMs) => {
          this.deps.metrics.lookupErrors.inc({ backend: 'kubernetes', reason });
          this.deps.logger.warn(
            { what: 'pods', err: errorMessage(err), retryInMs },
            'Kubernetes watch failed; serving cached metadata',
          );
        },
        expired: (during) =>
          this.deps.logger.info({ what: 'pods', during }, 'Kubernetes resourceVersion expired; relisting'),
      },
    );
    this.podWatch.start();
  }

  /** Complete pod lists so far (the first one sets `synced`). */
  get podLists(): number {
    return this.podWatch?.lists ?? 0;
  }

  /** The owner GET client; null (owners stay ReplicaSet / Job names) when the kubeconfig's proxy is unusable. */
  private ownerClient(kc: KubeCredentials): KubeMetadataClient | null {
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

  /** A complete list: its pods are put, known pods missing from it were deleted meanwhile. */
  private replacePods(pods: readonly SlimPod[]): void {
    const listed = new Set<string>();
    for (const p of pods) {
      if (p.uid === '') continue;
      listed.add(p.uid);
      this.putPod(p, false);
    }
    for (const uid of this.pods.keys())
      if (!listed.has(uid) && !this.deleted.has(uid)) {
        this.deleted.set(uid, this.now());
        for (const l of this.listeners) l(uid, false);
      }
    this.synced = true;
  }

  private putPod(pod: SlimPod, removed: boolean): void {
    const uid = pod.uid;
    if (uid === '') return;
    if (removed) {
      this.deleted.set(uid, this.now());
    } else {
      this.deleted.delete(uid);
      const known = this.pods.has(uid);
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
    this.owners?.stop();
    this.client?.close();
    await this.podWatch?.stop();
    this.podWatch = null;
    this.podClient?.close();
    this.podClient = null;
  }
}

/**
 * The agent's Kubernetes credentials, in the order of loadKubeConfig. In-cluster (the DaemonSet) they
 * are read from the service account mount without loading @kubernetes/client-node (~80 MB of RSS);
 * a kubeconfig file loads it to apply what the file says (exec plugins, client certificates).
 */
export async function loadKubeCredentials(
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): Promise<KubeCredentials | null> {
  if (kubeconfig === '') {
    const inCluster = inClusterCredentials(env, serviceAccountDir);
    if (inCluster !== null) return inCluster;
    const file = env.KUBECONFIG;
    if (file === undefined || file === '' || !existsSync(file.split(':')[0] ?? '')) return null;
  }
  const k8s = await import('@kubernetes/client-node');
  const kc = loadKubeConfig(k8s, kubeconfig, env);
  return kc === null ? null : new KubeconfigCredentials(kc);
}

/**
 * Kubernetes credentials, in order: `enrich.kubernetes.kubeconfig`, in-cluster service account,
 * KUBECONFIG. null when there are none (podtrace then enriches from CRI alone).
 */
export function loadKubeConfig(
  k8s: K8sModule,
  kubeconfig: string,
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig | null {
  const kc = new k8s.KubeConfig();
  if (kubeconfig !== '') {
    kc.loadFromFile(kubeconfig);
    return kc;
  }
  if (existsSync(`${SERVICE_ACCOUNT_DIR}/token`) && env.KUBERNETES_SERVICE_HOST !== undefined) {
    kc.loadFromCluster();
    return kc;
  }
  const file = env.KUBECONFIG;
  if (file !== undefined && file !== '' && existsSync(file.split(':')[0] ?? '')) {
    kc.loadFromDefault();
    return kc;
  }
  return null;
}
