import { Observable } from 'rxjs';
import type { Subscriber, Subscription } from 'rxjs';
import type { FilterConfig } from '../config/config';
import { BoundedQueue } from '../core/bounded-queue';
import { onceShutdown } from '../core/component';
import type { ReadinessProbe } from '../core/component';
import type { Logger } from '../core/logger';
import type { CgroupChange, EnrichmentOutcome, EventBatch, PodtraceEvent } from '../events/event';
import { EventKind } from '../events/event-kind';
import type { WorkloadMeta } from '../events/workload-meta';
import type { Enricher } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import type { CgroupClass } from './cgroup/cgroup-layout';
import { classifyCgroupPath } from './cgroup/cgroup-layout';
import { detectAttributionMode } from './cgroup/attribution-mode';
import type { AttributionMode } from './cgroup/attribution-mode';
import { CgroupPathResolver } from './cgroup/cgroup-path-resolver';
import { CriStore } from './cri/cri-store';
import type { EnrichConfig } from './enrich-config';
import { KernelScopeSync } from './kernel-scope-sync';
import type { KernelScopeWriter } from './kernel-scope-sync';
import { KubeStore } from './kube/kube-store';
import type { LabelSelector } from './meta/label-selector';
import { parseLabelSelector } from './meta/label-selector';
import type { ContainerFacts } from './meta/workload-meta-builder';
import { buildWorkloadMeta, hostMeta } from './meta/workload-meta-builder';

/** How often held events are re-checked while any are held. */
const HOLD_TICK_MS = 25;
/** An entry that stayed incomplete is re-resolved at most this often while its events keep coming. */
const RETRY_INCOMPLETE_MS = 10000;

type Outcome = Exclude<EnrichmentOutcome, 'pending'>;

/** What the enricher knows about one cgroup id: the hot-path cache entry. */
interface CgroupEntry {
  id: number;
  resolving: boolean;
  resolvedOnce: boolean;
  cls: CgroupClass | null;
  meta: WorkloadMeta | null;
  outcome: Outcome;
  keep: boolean;
  firstSeen: number;
  holdUntil: number;
  nextRetryAt: number;
  /** The batch that last used this entry (LRU: moved to the map's end once per batch). */
  usedInBatch: number;
}

interface Held {
  event: PodtraceEvent;
  entry: CgroupEntry;
  /** A second cgroup the event waits for (a signal's sender), or null. */
  other: CgroupEntry | null;
}

/** The cgroup an event is attributed to: the victim's for an OOM kill (when the kernel gave one). */
function cgroupKey(e: PodtraceEvent): { id: number; pid: number } {
  if (e.kind === EventKind.OomKill && e.victimCgroupId !== 0)
    return { id: e.victimCgroupId, pid: e.victimPid };
  if (e.kind === EventKind.ProcessSignal && e.targetCgroupId !== 0)
    return { id: e.targetCgroupId, pid: e.targetPid };
  return { id: e.cgroupId, pid: e.pid };
}

/**
 * Attributes every event to its container and pod: cgroup id → cgroup path → container id → CRI →
 * Kubernetes API. Per event it does one Map lookup; a new cgroup is resolved once in the
 * background (its events are held up to `holdMs`, then emitted with what is known). One frozen
 * WorkloadMeta per container is shared by all its events. Filters (`filter.*`) drop events of
 * excluded namespaces / pods / the host and count them as `dropped{stage="enrich",reason="filtered"}`.
 */
export class PodEnricher implements Enricher, ReadinessProbe {
  readonly name = 'enrich';
  readonly cri: CriStore;
  readonly kube: KubeStore;
  readonly resolver: CgroupPathResolver | null;
  /** The cgroup hierarchy events are attributed through (decided once, at construction). */
  readonly attribution: AttributionMode;
  private readonly entries = new Map<number, CgroupEntry>();
  private readonly byPod = new Map<string, Set<CgroupEntry>>();
  private readonly metas = new Map<string, WorkloadMeta>();
  private readonly held: BoundedQueue<Held>;
  private readonly host: WorkloadMeta;
  private readonly selector: LabelSelector;
  private readonly namespaces: ReadonlySet<string>;
  private readonly excluded: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly log: Logger;
  private out: Subscriber<EventBatch> | null = null;
  private inputDone = false;
  private releasing = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private batchSeq = 0;
  private startWalk: Promise<void> | null = null;
  private readonly scopeSync: KernelScopeSync;

  constructor(
    private readonly config: EnrichConfig,
    private readonly filter: FilterConfig,
    private readonly deps: {
      logger: Logger;
      metrics: Metrics;
      nodeName: string;
      now?: () => number;
      /** Detected from `config` when not given (buildAgent detects once for the source and here). */
      attribution?: AttributionMode;
      /** The in-kernel scope to keep in step with the filters (the eBPF source's). */
      kernelScope?: KernelScopeWriter;
    },
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ component: 'enrich' });
    this.host = hostMeta(deps.nodeName);
    this.selector = parseLabelSelector(filter.podSelector);
    this.namespaces = new Set(filter.namespaces);
    this.excluded = new Set(filter.excludeNamespaces);
    const filtering =
      this.namespaces.size > 0 || this.excluded.size > 0 || !this.selector.empty || !filter.includeHost;
    this.scopeSync = new KernelScopeSync(deps.kernelScope ?? null, filtering, this.log);
    const graceMs = config.deletedGraceSeconds * 1000;
    this.cri = new CriStore(config.cri, graceMs, { logger: this.log, metrics: deps.metrics }, this.now);
    this.kube = new KubeStore(
      config.kubernetes,
      deps.nodeName,
      graceMs,
      { logger: this.log, metrics: deps.metrics },
      this.now,
    );
    this.attribution = deps.attribution ?? detectAttributionMode(config);
    const base = this.attribution.base;
    this.resolver =
      base === null
        ? null
        : new CgroupPathResolver(base, config.procBase, config.rescanMinIntervalMs, {
            maxEntries: config.maxCgroups,
            hierarchyId: this.attribution.hierarchyId,
            now: this.now,
            onEvict: (reason) => deps.metrics.cacheEvictions.inc({ cache: 'cgroup_paths', reason }),
            onResolve: (via) => deps.metrics.cgroupResolutions.inc({ via }),
          });
    if (base === null)
      this.log.warn(
        { reason: this.attribution.reason },
        'no cgroup hierarchy to attribute through; every container event will be enrichment=none',
      );
    else this.log.info({ mode: this.attribution.mode, reason: this.attribution.reason }, 'attribution mode');
    this.held = new BoundedQueue<Held>(config.holdMaxEvents, 'oldest', (h) => {
      // Full: the oldest held event leaves early with what is known, it is not lost.
      deps.metrics.lookupErrors.inc({ backend: 'enrich', reason: 'hold_overflow' });
      this.emit([this.apply(h.event, h.entry)].filter((e): e is PodtraceEvent => e !== null));
    });
    this.cri.onChange((podUid, containerId, removed) => this.onStoreChange(podUid, containerId, removed));
    this.kube.onChange((podUid, removed) => this.onStoreChange(podUid, null, removed));
  }

  start(): Promise<void> {
    if (!this.config.enabled) return Promise.resolve();
    this.stopped = false;
    // The one walk of the tree: cgroups that existed before podtrace (the kernel reports the rest).
    this.startWalk ??= (this.resolver?.start() ?? Promise.resolve()).catch((err: unknown) => {
      this.log.warn({ err }, 'cgroup walk at start failed; relying on the kernel and /proc');
    });
    this.cri.start();
    void this.kube.start();
    return Promise.resolve();
  }

  ready(): { ready: boolean; detail: string } {
    const cri = this.config.cri.enabled
      ? this.cri.connected
        ? `cri ${this.cri.endpoint ?? ''}`
        : 'cri unreachable'
      : 'cri off';
    const kube = this.kube.active
      ? this.kube.synced
        ? 'kubernetes synced'
        : 'kubernetes syncing'
      : 'kubernetes off';
    return { ready: this.resolver !== null, detail: `${cri}; ${kube}; ${this.entries.size} cgroups cached` };
  }

  attach(input$: Observable<EventBatch>): Observable<EventBatch> {
    return new Observable<EventBatch>((subscriber) => {
      this.out = subscriber;
      this.inputDone = false;
      const sub: Subscription = input$.subscribe({
        next: (b) => this.onBatch(b),
        error: (err: unknown) => {
          this.releaseHeld(true);
          subscriber.error(err);
        },
        complete: () => {
          this.inputDone = true;
          this.maybeComplete();
        },
      });
      return () => {
        sub.unsubscribe();
        this.stopTimer();
        if (this.out === subscriber) this.out = null;
      };
    });
  }

  readonly shutdown = onceShutdown(async () => {
    this.stopped = true;
    this.releaseHeld(true);
    this.stopTimer();
    this.cri.stop();
    await this.kube.stop();
    this.maybeComplete();
  });

  /** Events currently held for late metadata. */
  get heldCount(): number {
    return this.held.length;
  }

  private onBatch(batch: EventBatch): void {
    if (!this.config.enabled) {
      for (const e of batch.events) e.enrichment = 'none';
      this.emit(batch.events);
      return;
    }
    // Cgroup ids are never reused: paths of new cgroups before the batch's events, removals after.
    const changes = batch.cgroups;
    if (changes !== undefined) this.learnCgroups(changes, batch.events);
    if (this.held.length > 0) this.releaseHeld(false);
    const now = this.now();
    const seq = ++this.batchSeq;
    const out: PodtraceEvent[] = [];
    for (const ev of batch.events) {
      const { id, pid } = cgroupKey(ev);
      let entry = this.entries.get(id);
      if (entry === undefined) entry = this.newEntry(id, pid, now);
      else {
        if (entry.usedInBatch !== seq) {
          // LRU, not FIFO: a used entry moves to the end (once per batch, not per event).
          entry.usedInBatch = seq;
          this.entries.delete(id);
          this.entries.set(id, entry);
        }
        if (!entry.resolving && entry.outcome !== 'complete' && now >= entry.nextRetryAt)
          this.resolve(entry, pid);
      }
      const other = ev.kind === EventKind.ProcessSignal ? this.senderEntry(ev.cgroupId, ev.pid, now) : null;
      if (this.isFinal(entry, now) && (other === null || this.isFinal(other, now))) {
        const e = this.apply(ev, entry);
        if (e !== null) out.push(e);
      } else {
        ev.enrichment = 'pending';
        this.held.push({ event: ev, entry, other });
      }
    }
    this.deps.metrics.queueDepth.set({ queue: 'enrich_hold' }, this.held.length);
    if (this.held.length > 0) this.startTimer();
    this.emit(out);
    if (changes !== undefined) this.forgetCgroups(changes);
  }

  /**
   * A cgroup created and removed within the same batch is learned only when one of the batch's
   * events belongs to it: churn of short-lived, silent cgroups never displaces live entries.
   */
  private learnCgroups(changes: readonly CgroupChange[], events: readonly PodtraceEvent[]): void {
    if (this.resolver === null) return;
    let removed: Set<number> | null = null;
    for (const c of changes) if (c.op === 'rmdir') (removed ??= new Set()).add(c.id);
    let used: Set<number> | null = null;
    if (removed !== null) {
      used = new Set();
      for (const ev of events) {
        used.add(ev.cgroupId);
        used.add(cgroupKey(ev).id);
      }
    }
    for (const c of changes) {
      if (c.op !== 'mkdir' || c.truncated) continue;
      if (removed !== null && removed.has(c.id) && used?.has(c.id) !== true) continue;
      this.resolver.learn(c.id, c.path);
    }
  }

  /** rmdir: the kernel's own eviction signal, for the path and the workload entry alike. */
  private forgetCgroups(changes: readonly CgroupChange[]): void {
    for (const c of changes) {
      if (c.op !== 'rmdir') continue;
      this.resolver?.forget(c.id);
      const entry = this.entries.get(c.id);
      if (entry !== undefined) {
        this.forget(entry);
        this.deps.metrics.cacheEvictions.inc({ cache: 'cgroup_entries', reason: 'rmdir' });
      }
    }
  }

  /** Cgroup entries cached (bounded by `enrich.maxCgroups`). */
  get cachedCgroups(): number {
    return this.entries.size;
  }

  private isFinal(entry: CgroupEntry, now: number): boolean {
    if (this.stopped) return true;
    if (!entry.resolvedOnce) return now >= entry.holdUntil;
    // With neither CRI nor the API enabled, a resolved path is all there is to learn: no reason to
    // hold. An unresolved path may still appear in the next rescan of the cgroup tree.
    const canLearnMore = this.config.cri.enabled || this.config.kubernetes.enabled || entry.cls === null;
    return entry.outcome === 'complete' || !canLearnMore || now >= entry.holdUntil;
  }

  /** Sets meta and outcome; returns null when a filter drops the event. */
  private apply(ev: PodtraceEvent, entry: CgroupEntry): PodtraceEvent | null {
    ev.meta = entry.meta;
    ev.enrichment = entry.outcome;
    if (ev.kind === EventKind.ProcessSignal) ev.senderMeta = this.senderMeta(ev.cgroupId);
    this.deps.metrics.enrichment.inc({ outcome: entry.outcome });
    if (!entry.keep) {
      this.deps.metrics.drop('enrich', 'filtered');
      return null;
    }
    return ev;
  }

  /** The entry of a signal's sender cgroup (created and resolved like any other), or null when unknown. */
  private senderEntry(cgroupId: number, pid: number, now: number): CgroupEntry | null {
    if (cgroupId === 0) return null;
    return this.entries.get(cgroupId) ?? this.newEntry(cgroupId, pid, now);
  }

  /** The sender's metadata as far as known when the signal leaves. */
  private senderMeta(cgroupId: number): WorkloadMeta | null {
    return this.entries.get(cgroupId)?.meta ?? null;
  }

  private emit(events: PodtraceEvent[]): void {
    if (events.length > 0) this.out?.next({ events });
  }

  private newEntry(id: number, pid: number, now: number): CgroupEntry {
    const entry: CgroupEntry = {
      id,
      resolving: false,
      resolvedOnce: false,
      cls: null,
      meta: null,
      outcome: 'none',
      keep: this.namespaces.size === 0 && this.selector.empty,
      firstSeen: now,
      holdUntil: now + this.config.holdMs,
      nextRetryAt: now,
      usedInBatch: this.batchSeq,
    };
    if (this.entries.size >= this.config.maxCgroups) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.forget(this.entries.get(oldest.value) as CgroupEntry);
        this.deps.metrics.cacheEvictions.inc({ cache: 'cgroup_entries', reason: 'lru' });
      }
    }
    this.entries.set(id, entry);
    this.resolve(entry, pid);
    return entry;
  }

  private forget(entry: CgroupEntry): void {
    this.entries.delete(entry.id);
    this.scopeSync.forgotten(entry.id);
    const uid = this.podUidOf(entry);
    if (uid !== null) this.byPod.get(uid)?.delete(entry);
  }

  private podUidOf(entry: CgroupEntry): string | null {
    const c = entry.cls;
    return c !== null && (c.kind === 'container' || c.kind === 'pod') ? c.podUid : null;
  }

  /** Background resolution of one cgroup: path (once), then CRI (at most once per container). */
  private resolve(entry: CgroupEntry, pid: number): void {
    entry.resolving = true;
    const started = performance.now();
    void (async () => {
      try {
        if (entry.cls === null && this.resolver !== null) {
          const p = await this.resolver.resolve(entry.id, pid);
          if (p !== null) {
            entry.cls = classifyCgroupPath(p.path);
            const uid = this.podUidOf(entry);
            if (uid !== null) {
              let set = this.byPod.get(uid);
              if (set === undefined) this.byPod.set(uid, (set = new Set()));
              set.add(entry);
            }
          }
        }
        const c = entry.cls;
        if (c !== null && c.kind === 'container') await this.cri.ensure(c.containerId);
      } catch (err) {
        this.deps.metrics.lookupErrors.inc({ backend: 'cgroup', reason: 'resolve' });
        this.log.debug({ err, cgroupId: entry.id }, 'cgroup resolution failed');
      } finally {
        entry.resolving = false;
        entry.resolvedOnce = true;
        entry.nextRetryAt =
          this.now() + (entry.cls === null ? this.config.rescanMinIntervalMs : RETRY_INCOMPLETE_MS);
        this.refresh(entry);
        this.deps.metrics.enrichmentLatency.observe((performance.now() - started) / 1000);
        if (this.held.length > 0) this.releaseHeld(false);
      }
    })();
  }

  /** Recomputes an entry's meta, outcome and filter decision from the caches (no I/O). */
  private refresh(entry: CgroupEntry): void {
    const c = entry.cls;
    if (c === null) {
      entry.meta = null;
      entry.outcome = 'none';
      entry.keep = this.namespaces.size === 0 && this.selector.empty;
      return;
    }
    if (c.kind === 'host' || c.kind === 'monitor') {
      // CRI-O's conmon runs in the pod's slice but is runtime infrastructure: attributed to the host.
      entry.meta = this.host;
      entry.outcome = 'complete';
      entry.keep = this.filter.includeHost;
      this.scopeSync.decided(entry.id, entry.keep);
      return;
    }
    const containerId = c.kind === 'container' ? c.containerId : null;
    const criContainer = containerId === null ? undefined : this.cri.container(containerId);
    const podUid = c.podUid ?? criContainer?.podUid ?? null;
    const sandbox =
      (containerId === null ? undefined : this.cri.sandbox(containerId)) ??
      (podUid === null ? undefined : this.cri.sandboxOfPod(podUid));
    const pod = podUid === null ? undefined : this.kube.podByUid(podUid);
    const fromApi = containerId === null ? undefined : pod?.containers.get(containerId);
    const isSandbox = containerId !== null && this.cri.sandbox(containerId) !== undefined;
    const facts: ContainerFacts = {
      containerId,
      containerName: criContainer?.name ?? fromApi?.name ?? null,
      image: criContainer?.image ?? fromApi?.image ?? null,
      runtime: this.cri.runtimeName !== '' ? this.cri.runtimeName : c.kind === 'container' ? c.runtime : null,
      podUid,
      podName: pod?.name ?? criContainer?.podName ?? sandbox?.podName ?? null,
      namespace: pod?.namespace ?? criContainer?.namespace ?? sandbox?.namespace ?? null,
      labels: pod?.labels ?? sandbox?.labels ?? {},
      annotations: pod?.annotations ?? sandbox?.annotations ?? {},
      owner: pod?.owner ?? null,
    };
    const containerKnown = facts.containerName !== null || isSandbox || c.kind === 'pod';
    // A pod whose owner's parent (Deployment, CronJob) is still being looked up is not complete yet.
    const podKnown =
      (pod !== undefined && this.kube.ownerSettled(pod.uid)) || (!this.kube.active && facts.podName !== null);
    entry.outcome = containerKnown && podKnown ? 'complete' : 'partial';
    const o = facts.owner;
    const parent =
      o !== null && (o.kind === 'ReplicaSet' || o.kind === 'Job') && facts.namespace !== null
        ? this.kube.parentOf(o.kind, facts.namespace, o.name)
        : null;
    const sig = `${containerId ?? ''}|${podUid ?? ''}|${facts.containerName ?? ''}|${facts.podName ?? ''}|${pod?.resourceVersion ?? ''}|${sandbox?.id ?? ''}|${parent?.name ?? ''}`;
    let meta = this.metas.get(sig);
    if (meta === undefined) {
      meta = buildWorkloadMeta(facts, {
        nodeName: this.deps.nodeName,
        copyLabels: this.config.kubernetes.labels,
        lookupParent: (kind, ns, name) => this.kube.parentOf(kind, ns, name),
      });
      this.metas.set(sig, meta);
      if (this.metas.size > 2 * this.entries.size + 64) this.pruneMetas();
    }
    entry.meta = meta;
    entry.keep = this.keep(facts);
    // Only a complete answer goes into the kernel: a partial one may still flip when metadata arrives.
    this.scopeSync.decided(entry.id, entry.keep || entry.outcome !== 'complete');
  }

  private keep(f: ContainerFacts): boolean {
    if (this.namespaces.size > 0 && (f.namespace === null || !this.namespaces.has(f.namespace))) return false;
    if (f.namespace !== null && this.excluded.has(f.namespace)) return false;
    if (!this.selector.empty && (f.podName === null || !this.selector.matches(f.labels))) return false;
    return true;
  }

  private onStoreChange(podUid: string | null, containerId: string | null, removed: boolean): void {
    if (podUid === null) return;
    const set = this.byPod.get(podUid);
    if (set === undefined) return;
    for (const entry of [...set]) {
      if (
        removed &&
        (containerId === null || (entry.cls?.kind === 'container' && entry.cls.containerId === containerId))
      ) {
        this.forget(entry);
        continue;
      }
      if (!entry.resolving) this.refresh(entry);
    }
    if (removed) this.pruneMetas();
    if (this.held.length > 0) this.releaseHeld(false);
  }

  private pruneMetas(): void {
    const used = new Set<WorkloadMeta>();
    for (const e of this.entries.values()) if (e.meta !== null) used.add(e.meta);
    for (const [k, m] of this.metas) if (!used.has(m)) this.metas.delete(k);
  }

  /** Emits held events whose cgroup is resolved (or whose deadline passed; all when `all`), in arrival order. */
  private releaseHeld(all: boolean): void {
    if (this.releasing) return;
    this.releasing = true;
    try {
      const now = this.now();
      const keep: Held[] = [];
      const out: PodtraceEvent[] = [];
      for (const h of this.held.drain()) {
        if (all || (this.isFinal(h.entry, now) && (h.other === null || this.isFinal(h.other, now)))) {
          const e = this.apply(h.event, h.entry);
          if (e !== null) out.push(e);
        } else {
          keep.push(h);
          // A path not found yet (a short-lived process in a cgroup newer than the last rescan of
          // the tree): look again once the rescan interval allows, while its events are held.
          const entry = h.entry;
          if (entry.cls === null && !entry.resolving && now >= entry.nextRetryAt)
            this.resolve(entry, h.event.pid);
        }
      }
      for (const h of keep) this.held.push(h);
      this.deps.metrics.queueDepth.set({ queue: 'enrich_hold' }, this.held.length);
      this.emit(out);
      if (this.held.length === 0) this.stopTimer();
    } finally {
      this.releasing = false;
    }
    this.maybeComplete();
  }

  private startTimer(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.kube.evictExpired();
      this.releaseHeld(false);
    }, HOLD_TICK_MS);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private maybeComplete(): void {
    if (this.inputDone && this.held.length === 0 && this.out !== null) {
      const o = this.out;
      this.out = null;
      o.complete();
    }
  }
}
