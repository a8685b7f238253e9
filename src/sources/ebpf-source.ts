import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Logger } from '../core/logger';
import { NativeError } from '../core/errors';
import { BootClock } from '../events/clock';
import { RecordDecoder } from '../events/decode';
import type { CgroupChange, EventBatch, PodtraceEvent } from '../events/event';
import { NAMED_KINDS, eventName } from '../events/event-kind';
import { layoutMismatches } from '../events/layout';
import { bpfObjectDir, loadNativeAddon } from '../native/native-addon';
import type { HookReport, NativeAddon, NativeTracer } from '../native/native-addon';
import type { Source } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import type { EbpfSourceConfig } from './ebpf-config';
import { ReceivedCounter } from './received-counter';

/**
 * Optional hooks tried after the required groups; skipped (and reported once) where the kernel
 * lacks them. `cgroup` (cgroup mkdir/rmdir for attribution) goes with every configuration.
 */
export const OPTIONAL_GROUPS: readonly string[] = ['cgroup'];
const LOSS_POLL_MS = 1000;

export interface EbpfSourceDeps {
  logger: Logger;
  metrics: Metrics;
  addon?: NativeAddon;
  objectDir?: string;
  /** The cgroup hierarchy events are attributed through (default: cgroup2). */
  attribution?: { hierarchyId: number; v1Ssid: number };
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
    const tracer = new addon.Tracer({
      objectDir: this.deps.objectDir ?? bpfObjectDir(),
      probes: [...this.config.probes],
      optional: [...OPTIONAL_GROUPS],
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
    this.decoder = new RecordDecoder(new BootClock(() => addon.clockOffsetNs()));
    this.lossTimer = setInterval(() => this.pollLosses(), LOSS_POLL_MS);
    this.lossTimer.unref();
    this.pump = this.run(tracer, this.decoder);
    await Promise.resolve();
  }

  private async run(tracer: NativeTracer, decoder: RecordDecoder): Promise<void> {
    const counter = new ReceivedCounter(decoder.stats, this.deps.metrics);
    try {
      for (;;) {
        const buf = await tracer.next();
        if (buf === null) break;
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

  private pollLosses(): void {
    if (!this.tracer) return;
    this.lastLosses = this.tracer.losses();
    for (const k of NAMED_KINDS) {
      this.deps.metrics.kernelLost.set({ kind: eventName(k) }, this.lastLosses[k] ?? 0);
    }
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
      if (!this.tracer) {
        this.subject.complete();
        return;
      }
      this.pollLosses();
      this.tracer.close(); // detach, final drain; next() then yields the rest and null
      await this.pump;
    })();
    return this.shutdownPromise;
  }
}
