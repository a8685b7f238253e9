import type { Logger } from '../../core/logger';
import { errorMessage } from '../../core/errors';
import type { Metrics } from '../../telemetry/metrics';
import type { OwnerRef } from '../meta/owner';
import type { OwnedKind } from './kube-metadata-client';
import { KubeRequestError } from './kube-metadata-client';

/** Owner lookups in flight at once (a node's first pod list can name a few hundred owners). */
export const OWNER_FETCH_CONCURRENCY = 8;
/** A pod change re-checks its owner at most this often (a rollout updates many pods of one ReplicaSet). */
export const OWNER_REVALIDATE_MIN_MS = 1000;
/** How often TTL refreshes, error retries and the cleanup of unreferenced owners run. */
export const OWNER_SWEEP_INTERVAL_MS = 1000;

export type OwnerLookup = (
  kind: OwnedKind,
  namespace: string,
  name: string,
  signal: AbortSignal,
) => Promise<OwnerRef | null>;

export interface OwnerCacheOptions {
  ttlMs: number;
  maxEntries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

interface Entry {
  readonly key: string;
  readonly kind: OwnedKind;
  readonly namespace: string;
  readonly name: string;
  parent: OwnerRef | null;
  /** A lookup answered or failed at least once: pods stop waiting for it. */
  settled: boolean;
  /** Last successful lookup (0: never). */
  fetchedAt: number;
  /** Start of the last lookup. */
  attemptAt: number;
  failures: number;
  retryAt: number;
  state: 'idle' | 'queued' | 'fetching';
  /** Uids of this node's pods owned by it. */
  readonly pods: Set<string>;
}

const ownerKey = (kind: OwnedKind, namespace: string, name: string): string => `${kind}/${namespace}/${name}`;

export function isOwnedKind(kind: string): kind is OwnedKind {
  return kind === 'ReplicaSet' || kind === 'Job';
}

/**
 * The parents of this node's pods' owners (ReplicaSet → Deployment, Job → CronJob), looked up one
 * named object at a time: cost follows the pods on this node, never the cluster. Lookups are
 * coalesced (one per owner however many pods share it), at most OWNER_FETCH_CONCURRENCY at once,
 * re-checked when a pod changes (at most every OWNER_REVALIDATE_MIN_MS) and after `ttlMs`. Failed
 * lookups (403, 404, 5xx, unreachable) keep what is cached, are counted in
 * `podtrace_metadata_errors_total{backend="kubernetes",reason="owner_…"}`, logged once per reason
 * until a lookup succeeds again, and retried with exponential backoff. Bounded: past `maxEntries`
 * the least recently used owner is evicted (`podtrace_cache_evictions_total{cache="owners",reason="lru"}`);
 * owners no pod references any more leave after `ttlMs`.
 */
export class OwnerCache {
  private readonly entries = new Map<string, Entry>();
  private readonly podOwner = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private readonly logged = new Set<string>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  private stopped = true;
  private evicted = 0;

  constructor(
    private readonly lookup: OwnerLookup,
    private readonly options: OwnerCacheOptions,
    private readonly deps: { logger: Logger; metrics: Metrics },
    /** Called with the pods whose owner's parent became known or changed. */
    private readonly onChange: (podUids: readonly string[]) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get evictions(): number {
    return this.evicted;
  }

  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.timer = setInterval(() => this.sweep(), OWNER_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    this.queue.length = 0;
  }

  /** The parent of a ReplicaSet / Job as last looked up; null when unknown or it has none. */
  parentOf(kind: OwnedKind, namespace: string, name: string): OwnerRef | null {
    return this.entries.get(ownerKey(kind, namespace, name))?.parent ?? null;
  }

  /** False while the first lookup of the pod's owner is under way (its events wait for it). */
  settled(podUid: string): boolean {
    return this.podOwner.get(podUid)?.settled ?? true;
  }

  /**
   * A pod of this node was added (`changed` false) or changed: looks its owner up when not cached,
   * re-checks it on a change.
   */
  track(podUid: string, namespace: string, owner: OwnerRef | null, changed: boolean): void {
    if (owner === null || !isOwnedKind(owner.kind)) {
      this.untrack(podUid);
      return;
    }
    const key = ownerKey(owner.kind, namespace, owner.name);
    const previous = this.podOwner.get(podUid);
    if (previous !== undefined && previous.key !== key) this.untrack(podUid);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        kind: owner.kind,
        namespace,
        name: owner.name,
        parent: null,
        settled: false,
        fetchedAt: 0,
        attemptAt: 0,
        failures: 0,
        retryAt: 0,
        state: 'idle',
        pods: new Set(),
      };
      this.entries.set(key, entry);
      this.enqueue(entry);
      this.evictOverflow();
    } else {
      // Most recently used last: the LRU order of eviction.
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (changed && entry.state === 'idle' && this.now() - entry.attemptAt >= OWNER_REVALIDATE_MIN_MS)
        this.enqueue(entry);
    }
    entry.pods.add(podUid);
    this.podOwner.set(podUid, entry);
  }

  /** The pod is gone from this node. */
  untrack(podUid: string): void {
    const entry = this.podOwner.get(podUid);
    if (entry === undefined) return;
    entry.pods.delete(podUid);
    this.podOwner.delete(podUid);
  }

  /** TTL refreshes, retries after errors, and the cleanup of owners no pod references. */
  sweep(): void {
    const now = this.now();
    for (const e of [...this.entries.values()]) {
      if (e.state !== 'idle') continue;
      const age = now - Math.max(e.fetchedAt, e.attemptAt);
      if (e.pods.size === 0) {
        if (age >= this.options.ttlMs) this.entries.delete(e.key);
      } else if (e.failures > 0) {
        if (now >= e.retryAt) this.enqueue(e);
      } else if (now - e.fetchedAt >= this.options.ttlMs) this.enqueue(e);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.values().next();
      if (oldest.done === true) return;
      const e = oldest.value;
      this.entries.delete(e.key);
      for (const uid of e.pods) this.podOwner.delete(uid);
      this.evicted++;
      this.deps.metrics.cacheEvictions.inc({ cache: 'owners', reason: 'lru' });
    }
  }

  private enqueue(e: Entry): void {
    if (this.stopped || e.state !== 'idle') return;
    e.state = 'queued';
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < OWNER_FETCH_CONCURRENCY) {
      const e = this.queue.shift();
      if (e === undefined) return;
      // Evicted while queued: nothing to look up for.
      if (this.entries.get(e.key) !== e) {
        e.state = 'idle';
        continue;
      }
      e.state = 'fetching';
      e.attemptAt = this.now();
      this.inFlight++;
      void this.fetch(e);
    }
  }

  private async fetch(e: Entry): Promise<void> {
    let changed: boolean;
    try {
      const parent = await this.lookup(e.kind, e.namespace, e.name, this.abort.signal);
      changed = !e.settled || parent?.kind !== e.parent?.kind || parent?.name !== e.parent?.name;
      e.parent = parent;
      e.fetchedAt = this.now();
      e.failures = 0;
      if (this.logged.size > 0) {
        this.deps.logger.info({ owner: e.key }, 'Kubernetes owner lookups answer again');
        this.logged.clear();
      }
    } catch (err) {
      if (this.stopped) return;
      const reason = err instanceof KubeRequestError ? err.reason : 'error';
      this.deps.metrics.lookupErrors.inc({ backend: 'kubernetes', reason: `owner_${reason}` });
      e.failures++;
      e.retryAt =
        this.now() +
        Math.min(
          this.options.backoffInitialMs * 2 ** Math.min(e.failures - 1, 20),
          this.options.backoffMaxMs,
        );
      if (!this.logged.has(reason)) {
        this.logged.add(reason);
        this.deps.logger.warn(
          { owner: e.key, reason, err: errorMessage(err) },
          'Kubernetes owner lookup failed; pods keep their ReplicaSet / Job name and the cached parent, retrying',
        );
      }
      // The pod's events stop waiting: they leave with what is known.
      changed = !e.settled;
    } finally {
      e.state = 'idle';
      this.inFlight--;
    }
    e.settled = true;
    if (changed && e.pods.size > 0 && !this.stopped) this.onChange([...e.pods]);
    this.pump();
  }
}
