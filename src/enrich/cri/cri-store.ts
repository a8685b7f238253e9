import type { Logger } from '../../core/logger';
import { errorMessage } from '../../core/errors';
import type { Metrics } from '../../telemetry/metrics';
import type { CriConfig } from '../enrich-config';
import type { CriContainerEvent, CriPodSandbox } from './cri-client';
import { CriClient, grpcCodeName, isNotFound } from './cri-client';
import { probeCri } from './cri-probe';

/** Labels kubelet puts on every sandbox and container. */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

/** A slim copy of what CRI knows about a container. */
export interface CriContainerInfo {
  id: string;
  name: string;
  image: string;
  sandboxId: string;
  podUid: string | null;
  podName: string | null;
  namespace: string | null;
}

/** A slim copy of what CRI knows about a pod sandbox (labels are the pod's labels plus kubelet's). */
export interface CriSandboxInfo {
  id: string;
  podUid: string;
  podName: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

/** Tells the enricher which pod's metadata changed (or was evicted). */
export type CriChangeListener = (podUid: string | null, containerId: string | null, removed: boolean) => void;

interface Removed {
  at: number;
}

function slimContainer(c: {
  id: string;
  metadata: { name: string } | null;
  image: { image: string } | null;
  labels: Record<string, string>;
  podSandboxId?: string;
}): CriContainerInfo {
  const l = c.labels;
  return {
    id: c.id,
    name: l[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? '',
    image: c.image?.image ?? '',
    sandboxId: c.podSandboxId ?? '',
    podUid: l[LABEL_POD_UID] ?? null,
    podName: l[LABEL_POD_NAME] ?? null,
    namespace: l[LABEL_POD_NAMESPACE] ?? null,
  };
}

function slimSandbox(s: CriPodSandbox): CriSandboxInfo {
  return {
    id: s.id,
    podUid: s.metadata?.uid ?? s.labels[LABEL_POD_UID] ?? '',
    podName: s.metadata?.name ?? s.labels[LABEL_POD_NAME] ?? '',
    namespace: s.metadata?.namespace ?? s.labels[LABEL_POD_NAMESPACE] ?? '',
    labels: Object.freeze({ ...s.labels }),
    annotations: Object.freeze({ ...s.annotations }),
  };
}

/**
 * The CRI side of enrichment: a cache of containers and pod sandboxes, warmed at start with
 * ListPodSandbox + ListContainers, kept fresh by GetContainerEvents (where the runtime has it) and a
 * periodic relist, queried with ContainerStatus at most once per unknown container. Removed
 * containers stay resolvable for the grace period. When the runtime is unreachable it keeps what
 * it has, counts errors and reconnects with exponential backoff.
 */
export class CriStore {
  private client: CriClient | null = null;
  private readonly containers = new Map<string, CriContainerInfo>();
  private readonly sandboxes = new Map<string, CriSandboxInfo>();
  private readonly sandboxByPod = new Map<string, string>();
  private readonly removed = new Map<string, Removed>();
  /** Container ids ContainerStatus said do not exist; cleared when a relist or event mentions them. */
  private readonly missing = new Set<string>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly listeners: CriChangeListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  private cancelEvents: (() => void) | null = null;
  private backoffMs: number;
  private stopped = false;
  private relisting: Promise<void> | null = null;
  runtimeName = '';
  runtimeVersion = '';
  /** True after a successful list; false while the runtime is unreachable. */
  connected = false;
  /** Completed relists (tests wait on it). */
  relists = 0;

  constructor(
    private config: CriConfig,
    private readonly deletedGraceMs: number,
    private readonly deps: { logger: Logger; metrics: Metrics },
    private readonly now: () => number = Date.now,
  ) {
    this.backoffMs = config.backoffInitialMs;
  }

  onChange(l: CriChangeListener): void {
    this.listeners.push(l);
  }

  get endpoint(): string | null {
    return this.client?.endpoint ?? null;
  }

  /** Calls made to the runtime, by method (all methods when omitted). */
  callCount(method?: string): number {
    return this.client?.callCount(method) ?? 0;
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (!this.config.enabled) return;
    this.stopped = false;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.client === null) {
        const probe = await probeCri(this.config.endpoint, this.config.timeoutMs);
        if (probe.endpoint === null) {
          throw new Error(
            `no CRI runtime answered (${probe.tried.map((t) => `${t.endpoint}: ${t.error ?? 'ok'}`).join('; ')})`,
          );
        }
        if (this.stopped) return;
        this.client = new CriClient(probe.endpoint, this.config.timeoutMs);
        this.runtimeName = probe.runtimeName ?? '';
        this.runtimeVersion = probe.runtimeVersion ?? '';
        this.deps.logger.info(
          { endpoint: probe.endpoint, runtime: this.runtimeName, version: this.runtimeVersion },
          'CRI runtime connected',
        );
      }
      await this.relist();
      this.backoffMs = this.config.backoffInitialMs;
      this.followEvents();
      this.schedule(this.config.relistSeconds * 1000, () => void this.connect());
    } catch (err) {
      this.connected = false;
      this.deps.metrics.lookupErrors.inc({
        backend: 'cri',
        reason: this.client === null ? 'unreachable' : grpcCodeName(err),
      });
      this.deps.logger.warn(
        { err: errorMessage(err), retryInMs: this.backoffMs },
        'CRI runtime unavailable; serving cached metadata',
      );
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.config.backoffMaxMs);
      this.schedule(delay, () => void this.connect());
    }
  }

  private schedule(ms: number, fn: () => void): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(fn, ms);
    this.timer.unref();
  }

  private followEvents(): void {
    if (!this.config.containerEvents || this.cancelEvents !== null || this.client === null) return;
    const client = this.client;
    this.cancelEvents = client.containerEvents(
      (e) => this.onContainerEvent(e),
      (err) => {
        this.cancelEvents = null;
        if (err === null || this.stopped) return;
        const code = grpcCodeName({ code: err.code });
        if (code === 'unimplemented') {
          this.deps.logger.info('CRI runtime has no GetContainerEvents; relying on periodic relist');
          this.config = { ...this.config, containerEvents: false };
          return;
        }
        this.deps.metrics.lookupErrors.inc({ backend: 'cri', reason: `events_${code}` });
      },
    );
  }

  private onContainerEvent(e: CriContainerEvent): void {
    if (e.containerEventType === 'CONTAINER_DELETED_EVENT') {
      this.markRemoved(e.containerId);
      return;
    }
    if (
      e.containerEventType === 'CONTAINER_CREATED_EVENT' ||
      e.containerEventType === 'CONTAINER_STARTED_EVENT'
    ) {
      this.missing.delete(e.containerId);
      if (!this.containers.has(e.containerId)) void this.ensure(e.containerId);
    }
  }

  /** ListPodSandbox + ListContainers: replaces the view, marks vanished containers removed. */
  relist(): Promise<void> {
    this.relisting ??= this.doRelist().finally(() => {
      this.relisting = null;
    });
    return this.relisting;
  }

  private async doRelist(): Promise<void> {
    const client = this.client;
    if (client === null) return;
    const [sandboxes, containers] = await Promise.all([client.listPodSandbox(), client.listContainers()]);
    const seenSandboxes = new Set<string>();
    for (const s of sandboxes) {
      seenSandboxes.add(s.id);
      this.putSandbox(slimSandbox(s));
    }
    const seen = new Set<string>();
    for (const c of containers) {
      seen.add(c.id);
      this.missing.delete(c.id);
      if (!this.containers.has(c.id)) {
        const info = slimContainer(c);
        this.containers.set(c.id, info);
        this.emit(info.podUid, c.id, false);
      }
      this.removed.delete(c.id);
    }
    for (const id of this.containers.keys()) if (!seen.has(id)) this.markRemoved(id);
    for (const id of this.sandboxes.keys()) if (!seenSandboxes.has(id)) this.markRemoved(id);
    this.evictExpired();
    this.connected = true;
    this.relists++;
  }

  private putSandbox(s: CriSandboxInfo): void {
    const had = this.sandboxes.has(s.id);
    this.sandboxes.set(s.id, s);
    this.removed.delete(s.id);
    if (s.podUid !== '') this.sandboxByPod.set(s.podUid, s.id);
    if (!had) this.emit(s.podUid, null, false);
  }

  private markRemoved(id: string): void {
    if ((this.containers.has(id) || this.sandboxes.has(id)) && !this.removed.has(id))
      this.removed.set(id, { at: this.now() });
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [id, r] of this.removed) {
      if (now - r.at < this.deletedGraceMs) continue;
      this.removed.delete(id);
      const c = this.containers.get(id);
      if (c !== undefined) {
        this.containers.delete(id);
        this.emit(c.podUid, id, true);
      }
      const s = this.sandboxes.get(id);
      if (s !== undefined) {
        this.sandboxes.delete(id);
        if (this.sandboxByPod.get(s.podUid) === id) this.sandboxByPod.delete(s.podUid);
        this.emit(s.podUid, id, true);
      }
    }
  }

  private emit(podUid: string | null, containerId: string | null, removed: boolean): void {
    for (const l of this.listeners) l(podUid, containerId, removed);
  }

  container(id: string): CriContainerInfo | undefined {
    return this.containers.get(id);
  }

  sandbox(id: string): CriSandboxInfo | undefined {
    return this.sandboxes.get(id);
  }

  sandboxOfPod(podUid: string): CriSandboxInfo | undefined {
    const id = this.sandboxByPod.get(podUid);
    return id === undefined ? undefined : this.sandboxes.get(id);
  }

  /**
   * Makes sure the container (or sandbox) `id` is known: no call when cached, known missing, or
   * already being asked; else one ContainerStatus (PodSandboxStatus when the id is a sandbox).
   */
  ensure(id: string): Promise<void> {
    if (this.client === null || this.containers.has(id) || this.sandboxes.has(id) || this.missing.has(id))
      return Promise.resolve();
    let p = this.inflight.get(id);
    if (p === undefined) {
      p = this.fetch(this.client, id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetch(client: CriClient, id: string): Promise<void> {
    try {
      const st = await client.containerStatus(id);
      const info = slimContainer(st);
      const sb = info.podUid === null ? undefined : this.sandboxOfPod(info.podUid);
      if (sb !== undefined) info.sandboxId = sb.id;
      this.containers.set(id, info);
      if (info.podUid !== null && sb === undefined) await this.fetchSandboxOfPod(client, info.podUid);
      this.emit(info.podUid, id, false);
    } catch (err) {
      if (isNotFound(err)) {
        if (await this.fetchSandbox(client, id)) return;
        this.missing.add(id);
        return;
      }
      this.deps.metrics.lookupErrors.inc({ backend: 'cri', reason: grpcCodeName(err) });
    }
  }

  private async fetchSandbox(client: CriClient, id: string): Promise<boolean> {
    try {
      this.putSandbox(slimSandbox(await client.podSandboxStatus(id)));
      return true;
    } catch (err) {
      if (!isNotFound(err)) this.deps.metrics.lookupErrors.inc({ backend: 'cri', reason: grpcCodeName(err) });
      return false;
    }
  }

  /** A container whose pod sandbox is not cached yet: one ListPodSandbox (shared with any relist in flight). */
  private async fetchSandboxOfPod(client: CriClient, podUid: string): Promise<void> {
    try {
      for (const s of await client.listPodSandbox())
        if ((s.metadata?.uid ?? '') === podUid) this.putSandbox(slimSandbox(s));
    } catch (err) {
      this.deps.metrics.lookupErrors.inc({ backend: 'cri', reason: grpcCodeName(err) });
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.cancelEvents?.();
    this.cancelEvents = null;
    this.client?.close();
    this.client = null;
    this.connected = false;
  }
}
