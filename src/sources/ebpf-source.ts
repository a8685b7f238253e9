import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Logger } from '../core/logger';
import { NativeError } from '../core/errors';
import { BootClock } from '../events/clock';
import { RecordDecoder } from '../events/decode';
import type { Redactor } from '../events/redact';
import type { CgroupChange, EventBatch, PodtraceEvent } from '../events/event';
import { NAMED_KINDS, eventName } from '../events/event-kind';
import { layoutMismatches } from '../events/layout';
import { bpfObjectDir, loadNativeAddon } from '../native/native-addon';
import type { HookReport, NativeAddon, NativeTracer } from '../native/native-addon';
import type { Source } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import type { ProbeGroup } from '../events/event-kind';
import { detectCgroup2Mount } from '../enrich/cgroup/cgroup-mount';
import type { EbpfSourceConfig } from './ebpf-config';
import { ReceivedCounter } from './received-counter';
import { ebpfMapSizes, ebpfRodata } from './ebpf-settings';
import { KernelScope } from './kernel-scope';

/**
 * Optional hooks tried after the required groups; skipped (and reported once) where the kernel
 * lacks them. `cgroup` (cgroup mkdir/rmdir for attribution) goes with every configuration.
 */
export const OPTIONAL_GROUPS: readonly string[] = ['cgroup'];
/**
 * Groups that need hooks or helpers only recent kernels have (tp_btf, cgroup_skb with the current
 * task, bpf_timer): when enabled, a failure to load one is reported once and the rest runs.
 */
export const RECENT_KERNEL_GROUPS: readonly ProbeGroup[] = ['signal', 'dns', 'file', 'sched'];
const LOSS_POLL_MS = 1000;
/**
 * Room past `batchBytes` in the decode buffer: the drain thread closes a batch after the record that
 * crossed `batchBytes`, so a batch can be longer by one record (the addon reserves 8 KiB for it).
 */
const BATCH_SLACK_BYTES = 64 * 1024;
const DROP_SCOPE = 0;
const DROP_RATE = 1;
const DROP_TABLE_FULL = 2;
const DROP_UNPARSED = 3;

export interface EbpfSourceDeps {
  logger: Logger;
  metrics: Metrics;
  /** Redacts secrets in exec argv as records are decoded (the top-level `redact:` section). */
  redactor?: Redactor;
  addon?: NativeAddon;
  objectDir?: string;
  /** The cgroup hierarchy events are attributed through (default: cgroup2). */
  attribution?: { hierarchyId: number; v1Ssid: number };
  /** The cgroup2 root the cgroup programs (dns) attach to; detected when omitted. */
  cgroupPath?: string;
}

/** Records the kernel did not produce on purpose since start, per event name. */
export interface KernelDrops {
  /** Excluded by the in-kernel scope (filters). */
  scoped: Record<string, number>;
  /** Over `source.ebpf.rateLimit`. */
  rateLimited: Record<string, number>;
  /** Not tracked because an in-flight table was full (dns). */
  tableFull: Record<string, number>;
  /** Seen but not followed: a DNS-over-TCP query split before its header, pipelined queries. */
  unparsed: Record<string, number>;
}

/**
 * Kernel events from the BPF probe groups, as an Observable of decoded batches. The pump pulls
 * one batch from the addon at a time and pushes it synchronously down the pipeline, so the only
 * buffers are the addon's bounded pending batches and the kernel ring (where losses are counted).
 */
export class EbpfSource implements Source {
  readonly name = 'ebpf';
  private readonly subject = new Subject<EventBatch>();
  readonly batches$: Observable<EventBatch> = this.subject.asObservable();
  private tracer: NativeTracer | undefined;
  private decoder: RecordDecoder | undefined;
  private pump: Promise<void> | undefined;
  private lossTimer: NodeJS.Timeout | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private hookReport: HookReport[] = [];
  private lastLosses: number[] = [];
  private lastDrops: number[][] = [];
  private schedTimer: NodeJS.Timeout | undefined;
  private counter: ReceivedCounter | undefined;
  private lastSchedFlush = 0;
  /** Which cgroups produce records at all; maintained by the enricher (filters) or a caller. */
  readonly scope = new KernelScope();

  constructor(
    private readonly config: EbpfSourceConfig,
    private readonly deps: EbpfSourceDeps,
  ) {}

  get hooks(): readonly HookReport[] {
    return this.hookReport;
  }

  async start(): Promise<void> {
    if (this.tracer || this.shutdownPromise) return;
    const addon = this.deps.addon ?? loadNativeAddon();
    const mismatches = layoutMismatches(addon.layout());
    if (mismatches.length > 0)
      throw new Error(`record layout mismatch between addon and decoder: ${mismatches.join('; ')}`);
    const log = this.deps.logger.child({ component: 'libbpf' });
    const recent = new Set<string>(RECENT_KERNEL_GROUPS);
    const tracer = new addon.Tracer({
      objectDir: this.deps.objectDir ?? bpfObjectDir(),
      probes: this.config.probes.filter((g) => !recent.has(g)),
      optional: [...OPTIONAL_GROUPS, ...this.config.probes.filter((g) => recent.has(g))],
      rodata: ebpfRodata(this.config),
      mapSizes: ebpfMapSizes(this.config),
      cgroupPath: this.deps.cgroupPath ?? detectCgroup2Mount('')?.base ?? '',
      ringBufferBytes: this.config.ringBufferBytes,
      argvBytes: this.config.argvBytes,
      wakeupBytes: Math.floor((this.config.ringBufferBytes * this.config.wakeupPercent) / 100),
      drainIntervalMs: this.config.drainIntervalMs,
      batchBytes: this.config.batchBytes,
      maxPendingBatches: this.config.maxPendingBatches,
      cgroupHierarchy: this.deps.attribution?.hierarchyId ?? 0,
      cgroupV1Ssid: this.deps.attribution?.v1Ssid ?? 0,
      log: (level, message) => (level === 0 ? log.warn(message) : log.debug(message)),
    });
    try {
      this.hookReport = tracer.start();
    } catch (err) {
      const e = err as Error & { errno?: number; code?: string; syscall?: string };
      throw new NativeError(e.message, e.errno ?? 0, e.code ?? 'UNKNOWN', e.syscall ?? 'load');
    }
    for (const h of this.hookReport.filter((x) => !x.attached)) {
      this.deps.logger.warn(
        { group: h.group, hook: h.hook, reason: h.reason },
        'optional hook unavailable, skipped',
      );
    }
    this.tracer = tracer;
    this.scope.bind(tracer);
    this.decoder = new RecordDecoder(new BootClock(() => addon.clockOffsetNs()), this.deps.redactor);
    this.lossTimer = setInterval(() => this.pollLosses(), LOSS_POLL_MS);
    this.lossTimer.unref();
    if (this.hookReport.some((h) => h.group === 'sched' && h.attached)) {
      this.lastSchedFlush = performance.now();
      this.schedTimer = setInterval(() => this.flushSched(), this.config.sched.intervalSeconds * 1000);
      this.schedTimer.unref();
    }
    this.pump = this.run(tracer, this.decoder);
    await Promise.resolve();
  }

  private async run(tracer: NativeTracer, decoder: RecordDecoder): Promise<void> {
    const counter = new ReceivedCounter(decoder.stats, this.deps.metrics);
    this.counter = counter;
    // One buffer for every batch: the addon copies each into it and recycles its own, and the
    // decoder keeps no view of it (strings and numbers only), so it is free again after decode.
    const scratch = Buffer.allocUnsafeSlow(this.config.batchBytes + BATCH_SLACK_BYTES);
    try {
      for (;;) {
        const got = await tracer.nextInto(scratch);
        if (got === null) break;
        const buf = typeof got === 'number' ? scratch.subarray(0, got) : got;
        const events: PodtraceEvent[] = [];
        const cgroups: CgroupChange[] = [];
        decoder.decode(buf, events, cgroups);
        counter.update();
        if (cgroups.length > 0) this.subject.next({ events, cgroups });
        else if (events.length > 0) this.subject.next({ events });
      }
      this.subject.complete();
    } catch (err) {
      this.deps.logger.error({ err }, 'ebpf source stopped');
      this.subject.error(err);
    }
  }

  /** Emits one sched.runqueue event per container for the interval since the last flush. */
  private flushSched(): void {
    if (!this.tracer || !this.decoder) return;
    const now = performance.now();
    const buf = this.tracer.drainSched(Math.round((now - this.lastSchedFlush) * 1e6));
    this.lastSchedFlush = now;
    if (buf === null || buf.length === 0) return;
    const events: PodtraceEvent[] = [];
    this.decoder.decode(buf, events, []);
    this.counter?.update();
    if (events.length > 0) this.subject.next({ events });
  }

  private pollLosses(): void {
    if (!this.tracer) return;
    this.lastLosses = this.tracer.losses();
    for (const k of NAMED_KINDS) {
      this.deps.metrics.kernelLost.set({ kind: eventName(k) }, this.lastLosses[k] ?? 0);
    }
    const drops = this.tracer.drops();
    const m = this.deps.metrics;
    for (const k of NAMED_KINDS) {
      const kind = eventName(k);
      const delta = (r: number): number => (drops[r]?.[k] ?? 0) - (this.lastDrops[r]?.[k] ?? 0);
      if (delta(DROP_SCOPE) > 0) m.scopeFiltered.inc({ kind }, delta(DROP_SCOPE));
      if (delta(DROP_RATE) > 0) m.rateLimited.inc({ kind }, delta(DROP_RATE));
      if (delta(DROP_TABLE_FULL) > 0) m.kernelUntracked.inc({ kind }, delta(DROP_TABLE_FULL));
      if (delta(DROP_UNPARSED) > 0) m.kernelUnparsed.inc({ kind }, delta(DROP_UNPARSED));
    }
    this.lastDrops = drops;
  }

  /** What the kernel did not produce on purpose since start (scope, rate limit, full tables). */
  kernelDrops(): KernelDrops {
    this.pollLosses();
    const by = (r: number): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const k of NAMED_KINDS) out[eventName(k)] = this.lastDrops[r]?.[k] ?? 0;
      return out;
    };
    return {
      scoped: by(DROP_SCOPE),
      rateLimited: by(DROP_RATE),
      tableFull: by(DROP_TABLE_FULL),
      unparsed: by(DROP_UNPARSED),
    };
  }

  /** Failed ring-buffer reserves per event name since start. */
  kernelLosses(): Record<string, number> {
    this.pollLosses();
    const out: Record<string, number> = {};
    for (const k of NAMED_KINDS) out[eventName(k)] = this.lastLosses[k] ?? 0;
    return out;
  }

  /** Records decoded per event name, and malformed records. */
  decodeStats(): { perKind: Record<string, number>; malformed: number } {
    const perKind: Record<string, number> = {};
    const s = this.decoder?.stats;
    for (const k of NAMED_KINDS) perKind[eventName(k)] = s?.perKind[k] ?? 0;
    return { perKind, malformed: s?.malformed ?? 0 };
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      if (this.lossTimer) clearInterval(this.lossTimer);
      if (this.schedTimer) clearInterval(this.schedTimer);
      if (!this.tracer) {
        this.subject.complete();
        return;
      }
      if (this.schedTimer) this.flushSched(); // the last, partial interval
      this.pollLosses();
      this.scope.bind(null);
      this.tracer.close(); // detach, final drain; next() then yields the rest and null
      await this.pump;
    })();
    return this.shutdownPromise;
  }
}
