import { Observable } from 'rxjs';
import type { Subscriber, Subscription } from 'rxjs';
import type { FilterConfig } from '../config/config';
import { onceShutdown } from '../core/component';
import type { ReadinessProbe } from '../core/component';
import type { Logger } from '../core/logger';
import type { CgroupChange, EventBatch, PodtraceEvent } from '../events/event';
import { EventKind } from '../events/event-kind';
import type { WorkloadMeta } from '../events/workload-meta';
import type { Enricher } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import { attributedCgroup, cgroupsToLearn } from './cgroup/cgroup-changes';
import { classifyCgroupPath } from './cgroup/cgroup-layout';
import { detectAttributionMode } from './cgroup/attribution-mode';
import type { AttributionMode } from './cgroup/attribution-mode';
import { CgroupPathResolver } from './cgroup/cgroup-path-resolver';
import { CgroupEntryCache } from './cgroup-entry-cache';
import type { CgroupEntry } from './cgroup-entry-cache';
import { CriStore } from './cri/cri-store';
import type { EnrichConfig } from './enrich-config';
import { HoldBuffer } from './hold-buffer';
import { KernelScopeSync } from './kernel-scope-sync';
import type { KernelScopeWriter } from './kernel-scope-sync';
import { KubeStore } from './kube/kube-store';
import { hostMeta } from './meta/workload-meta-builder';
import { WorkloadFilter } from './meta/workload-filter';
import { WorkloadResolver } from './workload-resolver';

/** How often held events are re-checked while any are held. */
const HOLD_TICK_MS = 25;
/** An entry that stayed incomplete is re-resolved at most this often while its events keep coming. */
const RETRY_INCOMPLETE_MS = 10000;

/** An event held for late metadata. */
interface Held {
  event: PodtraceEvent;
  entry: CgroupEntry;
  /** A second cgroup the event waits for (a signal's sender), or null. */
  other: CgroupEntry | null;
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
  private readonly entries: CgroupEntryCache;
  private readonly workloads: WorkloadResolver;
  private readonly held: HoldBuffer<Held>;
  private readonly host: WorkloadMeta;
  private readonly filter: WorkloadFilter;
  private readonly now: () => number;
  private readonly log: Logger;
  private out: Subscriber<EventBatch> | null = null;
  private inputDone = false;
  private stopped = false;
  private batchSeq = 0;
  private startWalk: Promise<void> | null = null;
  private readonly scopeSync: KernelScopeSync;

  constructor(
    private readonly config: EnrichConfig,
    filter: FilterConfig,
    private readonly deps: {
      logger: Logger;
      metrics: Metrics;
      nodeName: string;
      now?: () => number;
      /** Detected from `config` when not given (buildAgent detects once for the source and here). */
      attribution?: AttributionMode;
      /** The in-kernel scope to keep in step with the filters (the eBPF source's). */
      kernelScope?: KernelScopeWriter;
      /** Where the pod's service account is mounted (default: the kubelet's path). */
      serviceAccountDir?: string;
    },
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ component: 'enrich' });
    this.host = hostMeta(deps.nodeName);
    this.filter = new WorkloadFilter(filter);
    this.scopeSync = new KernelScopeSync(deps.kernelScope ?? null, this.filter.active, this.log);
    this.entries = new CgroupEntryCache(config.maxCgroups, (entry, why) => {
      this.scopeSync.forgotten(entry.id);
      if (why !== 'removed') deps.metrics.cacheEvictions.inc({ cache: 'cgroup_entries', reason: why });
    });
    const graceMs = config.deletedGraceSeconds * 1000;
    this.cri = new CriStore(config.cri, graceMs, { logger: this.log, metrics: deps.metrics }, this.now);
    this.kube = new KubeStore(
      config.kubernetes,
      deps.nodeName,
      graceMs,
      { logger: this.log, metrics: deps.metrics, serviceAccountDir: deps.serviceAccountDir },
      this.now,
    );
    this.workloads = new WorkloadResolver(this.cri, this.kube, {
      nodeName: deps.nodeName,
      copyLabels: config.kubernetes.labels,
    });
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
    this.held = new HoldBuffer<Held>(config.holdMaxEvents, HOLD_TICK_MS, {
      now: this.now,
      ready: (h, now) => this.isFinal(h.entry, now) && (h.other === null || this.isFinal(h.other, now)),
      release: (held) => {
        const out: PodtraceEvent[] = [];
        for (const h of held) {
          const e = this.apply(h.event, h.entry);
          if (e !== null) out.push(e);
        }
        this.emit(out);
      },
      waiting: (h, now) => {
        // A path not found yet (a short-lived process in a cgroup newer than the last rescan of
        // the tree): look again once the rescan interval allows, while its events are held.
        const entry = h.entry;
        if (entry.cls === null && !entry.resolving && now >= entry.nextRetryAt)
          this.resolve(entry, h.event.pid);
      },
      // Full: the oldest held event leaves early with what is known, it is not lost.
      overflow: () => deps.metrics.lookupErrors.inc({ backend: 'enrich', reason: 'hold_overflow' }),
      tick: () => this.kube.evictExpired(),
      settled: (n) => {
        deps.metrics.queueDepth.set({ queue: 'enrich_hold' }, n);
        this.maybeComplete();
      },
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
          this.held.release(true);
          subscriber.error(err);
        },
        complete: () => {
          this.inputDone = true;
          this.maybeComplete();
        },
      });
      return () => {
        sub.unsubscribe();
        this.held.stop();
        if (this.out === subscriber) this.out = null;
      };
    });
  }

  readonly shutdown = onceShutdown(async () => {
    this.stopped = true;
    this.held.release(true);
    this.held.stop();
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
    if (changes !== undefined && this.resolver !== null)
      for (const c of cgroupsToLearn(changes, batch.events)) this.resolver.learn(c.id, c.path);
    if (this.held.length > 0) this.held.release(false);
    const now = this.now();
    const seq = ++this.batchSeq;
    const out: PodtraceEvent[] = [];
    for (const ev of batch.events) {
      const { id, pid } = attributedCgroup(ev);
      let entry = this.entries.get(id);
      if (entry === undefined) entry = this.newEntry(id, pid, now);
      else {
        this.entries.touch(entry, seq);
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
    this.emit(out);
    if (changes !== undefined) this.forgetCgroups(changes);
  }

  /** rmdir: the kernel's own eviction signal, for the path and the workload entry alike. */
  private forgetCgroups(changes: readonly CgroupChange[]): void {
    for (const c of changes) {
      if (c.op !== 'rmdir') continue;
      this.resolver?.forget(c.id);
      const entry = this.entries.get(c.id);
      if (entry !== undefined) this.entries.forget(entry, 'rmdir');
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
      keep: this.filter.keepsUnattributed,
      firstSeen: now,
      holdUntil: now + this.config.holdMs,
      nextRetryAt: now,
      usedInBatch: this.batchSeq,
    };
    this.entries.add(entry);
    this.resolve(entry, pid);
    return entry;
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
            this.entries.indexByPod(entry);
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
        if (this.held.length > 0) this.held.release(false);
      }
    })();
  }

  /** Recomputes an entry's meta, outcome and filter decision from the caches (no I/O). */
  private refresh(entry: CgroupEntry): void {
    const c = entry.cls;
    if (c === null) {
      entry.meta = null;
      entry.outcome = 'none';
      entry.keep = this.filter.keepsUnattributed;
      return;
    }
    if (c.kind === 'host' || c.kind === 'monitor') {
      // CRI-O's conmon runs in the pod's slice but is runtime infrastructure: attributed to the host.
      entry.meta = this.host;
      entry.outcome = 'complete';
      entry.keep = this.filter.keepsHost;
      this.scopeSync.decided(entry.id, entry.keep);
      return;
    }
    const w = this.workloads.of(c);
    entry.meta = w.meta;
    entry.outcome = w.outcome;
    entry.keep = this.filter.keeps(w.facts);
    if (this.workloads.size > 2 * this.entries.size + 64) this.pruneMetas();
    // Only a complete answer goes into the kernel: a partial one may still flip when metadata arrives.
    this.scopeSync.decided(entry.id, entry.keep || entry.outcome !== 'complete');
  }

  private onStoreChange(podUid: string | null, containerId: string | null, removed: boolean): void {
    if (podUid === null) return;
    const entries = this.entries.ofPod(podUid);
    if (entries.length === 0) return;
    for (const entry of entries) {
      if (
        removed &&
        (containerId === null || (entry.cls?.kind === 'container' && entry.cls.containerId === containerId))
      ) {
        this.entries.forget(entry, 'removed');
        continue;
      }
      if (!entry.resolving) this.refresh(entry);
    }
    if (removed) this.pruneMetas();
    if (this.held.length > 0) this.held.release(false);
  }

  private pruneMetas(): void {
    const used: (WorkloadMeta | null)[] = [];
    for (const e of this.entries.values()) used.push(e.meta);
    this.workloads.prune(used);
  }

  private maybeComplete(): void {
    if (this.inputDone && this.held.length === 0 && this.out !== null) {
      const o = this.out;
      this.out = null;
      o.complete();
    }
  }
}
