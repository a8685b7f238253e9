import { Subject } from 'rxjs';
import type { Observable } from 'rxjs';
import { ConfigError, errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import { BootClock, jsClockOffsetNs } from '../events/clock';
import { RecordDecoder } from '../events/decode';
import type { Redactor } from '../events/redact';
import type { EventBatch, PodtraceEvent } from '../events/event';
import { EVENT_NAMES, EventKind } from '../events/event-kind';
import { buildDnsMessage } from '../events/dns-message';
import {
  dnsRecord,
  execRecord,
  exitRecord,
  fileRecord,
  forkRecord,
  oomRecord,
  schedRecord,
  setRecordTimestamp,
  signalRecord,
  tcpRecord,
} from '../events/record-encoder';
import type { Source } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import { ReceivedCounter } from './received-counter';
import { realSourceClock } from './source-clock';
import type { SourceClock } from './source-clock';
import { syntheticConfigProblems } from './synthetic-config';
import type { SyntheticSourceConfig } from './synthetic-config';
import { syntheticWorkloads } from './synthetic-workloads';
import type { SyntheticContainer, SyntheticWorkloads } from './synthetic-workloads';

export interface SyntheticSourceDeps {
  logger: Logger;
  metrics: Metrics;
  /** Redacts secrets in exec argv as records are decoded (the top-level `redact:` section). */
  redactor?: Redactor;
  clock?: SourceClock;
  nodeName?: string;
  /** Boot-time ns at which the source starts (default: now on CLOCK_MONOTONIC). */
  bootNsAtStart?: () => number;
}

/** Length of the precomputed kind schedule (smooth weighted round robin over the mix). */
const SCHEDULE_LENGTH = 4096;
const TCP_ESTABLISHED = 1;
const TCP_SYN_SENT = 2;
const TCP_CLOSE = 7;

const KIND_BY_NAME = new Map<string, EventKind>(
  Object.entries(EVENT_NAMES).map(([k, name]) => [name, Number(k) as EventKind]),
);

export { syntheticConfigProblems } from './synthetic-config';

/** The kind sequence a mix produces: smooth weighted round robin, so any window keeps the proportions. */
export function kindSchedule(mix: Readonly<Record<string, number>>, length = SCHEDULE_LENGTH): EventKind[] {
  const kinds = [...KIND_BY_NAME.entries()].filter(([name]) => (mix[name] ?? 0) > 0);
  const weights = kinds.map(([name]) => mix[name] as number);
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const out: EventKind[] = [];
  for (let i = 0; i < length; i++) {
    let best = 0;
    for (let k = 0; k < kinds.length; k++) {
      current[k] = (current[k] as number) + (weights[k] as number);
      if ((current[k] as number) > (current[best] as number)) best = k;
    }
    current[best] = (current[best] as number) - total;
    out.push((kinds[best] as [string, EventKind])[1]);
  }
  return out;
}

function ipv4(a: number, b: number, c: number, d: number): number[] {
  return [a, b, c, d];
}

/** One raw record per (kind, container), later copied and re-stamped per event. */
function template(kind: EventKind, c: SyntheticContainer, i: number): Buffer {
  const h = {
    pid: c.pid,
    tid: c.pid,
    cgroupId: c.cgroupId,
    procStartNs: 1_000_000_000 + i * 1000,
    comm: c.comm,
    cpu: i % 2,
  };
  const local = ipv4(10, 244, (i >> 8) & 255, i & 255);
  const remote = ipv4(10, 96, (i * 7) & 255, 10);
  switch (kind) {
    case EventKind.ProcessExec:
      return execRecord(h, {
        ppid: c.pid - 1,
        uid: 1000,
        parentStartNs: 900_000_000,
        filename: '/usr/bin/curl',
        argv: ['curl', '-s', '-o', '/dev/null', `http://svc-${i % 97}.default.svc:8080/healthz`],
      });
    case EventKind.ProcessExit:
      return exitRecord(h, { exitCode: 0, lifetimeNs: 12_500_000 });
    case EventKind.ProcessFork:
      return forkRecord(h, { childPid: c.pid + 1, childStartNs: 1_100_000_000 });
    case EventKind.TcpConnect:
      return tcpRecord(
        { ...h, kind },
        {
          saddr: local,
          daddr: remote,
          sport: 40_000 + (i % 20_000),
          dport: 8080,
          oldState: TCP_SYN_SENT,
          newState: TCP_ESTABLISHED,
          durationNs: 250_000,
        },
      );
    case EventKind.TcpAccept:
      return tcpRecord(
        { ...h, kind },
        {
          saddr: local,
          daddr: remote,
          sport: 8080,
          dport: 50_000 + (i % 10_000),
          oldState: 3,
          newState: 1,
          durationNs: 90_000,
        },
      );
    case EventKind.TcpClose:
      return tcpRecord(
        { ...h, kind },
        {
          saddr: local,
          daddr: remote,
          sport: 40_000 + (i % 20_000),
          dport: 8080,
          oldState: TCP_ESTABLISHED,
          newState: TCP_CLOSE,
          durationNs: 40_000_000,
          bytesSent: 1_234,
          bytesReceived: 56_789,
        },
      );
    case EventKind.TcpRetransmit:
      return tcpRecord(
        { ...h, kind },
        {
          saddr: local,
          daddr: remote,
          sport: 40_000 + (i % 20_000),
          dport: 8080,
          oldState: TCP_ESTABLISHED,
          newState: TCP_ESTABLISHED,
        },
      );
    case EventKind.OomKill:
      return oomRecord(h, {
        victimPid: c.pid,
        victimComm: c.comm,
        victimCgroupId: c.cgroupId,
        pages: 262_144,
        rssPages: 200_000,
      });
    case EventKind.ProcessSignal:
      return signalRecord(h, {
        sig: 15,
        targetPid: c.pid + 1,
        targetComm: c.comm,
        targetCgroupId: c.cgroupId,
      });
    case EventKind.DnsQuery: {
      const name = `svc-${i % 97}.default.svc.cluster.local`;
      const nx = i % 10 === 0;
      // Now and then an answer truncated over UDP (TC), and the retry over TCP right after it.
      const tc = i % 20 === 5;
      const overTcp = i % 20 === 6;
      return dnsRecord(h, {
        saddr: local,
        daddr: ipv4(10, 96, 0, 10),
        sport: 30_000 + (i % 30_000),
        dport: 53,
        latencyNs: overTcp ? 900_000 : 400_000,
        transport: overTcp ? 'tcp' : 'udp',
        message: buildDnsMessage({
          id: i & 0xffff,
          name,
          rcode: nx ? 3 : 0,
          answers: nx || tc ? [] : ['10.96.3.7'],
          tc,
        }),
      });
    }
    case EventKind.FileRead:
    case EventKind.FileWrite:
    case EventKind.FileFsync:
    case EventKind.FileOpen:
      return fileRecord(
        { ...h, kind },
        {
          durationNs: 2_500_000,
          bytes: kind === EventKind.FileRead || kind === EventKind.FileWrite ? 4096 : 0,
          err: kind === EventKind.FileOpen ? 2 : 0,
          fd: kind === EventKind.FileOpen ? -1 : 5,
          path: `/var/lib/app/data-${i % 13}.db`,
        },
      );
    case EventKind.SchedRunqueue:
      return schedRecord(
        { cgroupId: c.cgroupId },
        { intervalNs: 10_000_000_000, latenciesNs: [2_000, 5_000, 9_000, 40_000, 1_200_000] },
      );
  }
}

/**
 * Generates raw records (the exact bytes the BPF programs write) for fake pods and decodes them with
 * the real RecordDecoder, so benchmarks pay the real decode cost. At a rate, it behaves like the
 * kernel side of the ring buffer: events become due on the clock whether or not the pipeline keeps
 * up, and when more than `ringBufferBytes` of them wait, the excess is lost and counted
 * (`podtrace_dropped_total{stage="synthetic",reason="ring_full"}`).
 */
export class SyntheticSource implements Source {
  readonly name = 'synthetic';
  private readonly subject = new Subject<EventBatch>();
  readonly batches$: Observable<EventBatch> = this.subject.asObservable();
  readonly workloads: SyntheticWorkloads;
  private readonly abort = new AbortController();
  private readonly clock: SourceClock;
  private readonly schedule: EventKind[];
  /** templates[kind][container] */
  private readonly templates: Buffer[][] = [];
  private readonly scratch: Buffer;
  private readonly capacityEvents: number;
  private readonly step: number;
  private readonly decoder: RecordDecoder;
  private pump: Promise<void> | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private producedCount = 0;
  private lostCount = 0;

  constructor(
    private readonly config: SyntheticSourceConfig,
    private readonly deps: SyntheticSourceDeps,
  ) {
    const problems = syntheticConfigProblems(config);
    if (problems.length > 0) throw new ConfigError(problems);
    this.clock = deps.clock ?? realSourceClock;
    this.decoder = new RecordDecoder(new BootClock(jsClockOffsetNs), deps.redactor);
    this.workloads = syntheticWorkloads(config.pods, config.containersPerPod, deps.nodeName);
    this.schedule = kindSchedule(config.mix);
    const containers = this.workloads.containers;
    let maxSize = 0;
    for (const kind of new Set(this.schedule)) {
      this.templates[kind] = containers.map((c, i) => template(kind, c, i));
      for (const t of this.templates[kind]) maxSize = Math.max(maxSize, t.length);
    }
    let bytes = 0;
    for (const k of this.schedule) bytes += (this.templates[k] as Buffer[])[0]?.length ?? 0;
    this.capacityEvents = Math.max(1, Math.floor(config.ringBufferBytes / (bytes / this.schedule.length)));
    this.scratch = Buffer.alloc(config.batchEvents * maxSize);
    // A stride coprime with the container count spreads consecutive events over all containers.
    let step = Math.max(1, Math.round(containers.length * 0.618));
    while (gcd(step, containers.length) !== 1) step++;
    this.step = step;
  }

  /** Events handed down the pipeline. */
  get produced(): number {
    return this.producedCount;
  }

  /** Events that fell out of the emulated ring buffer because the pipeline lagged. */
  get lost(): number {
    return this.lostCount;
  }

  /** Records decoded and malformed so far. */
  get decodeStats(): { records: number; malformed: number } {
    return { records: this.decoder.stats.records, malformed: this.decoder.stats.malformed };
  }

  start(): Promise<void> {
    if (this.pump || this.shutdownPromise) return Promise.resolve();
    this.pump = this.run();
    return Promise.resolve();
  }

  private emit(seq: number, n: number, bootNs: (seq: number) => number): void {
    const containers = this.workloads.containers.length;
    const L = this.schedule.length;
    let off = 0;
    for (let j = 0; j < n; j++) {
      const s = seq + j;
      const kind = this.schedule[s % L] as EventKind;
      const tpl = (this.templates[kind] as Buffer[])[(s * this.step) % containers] as Buffer;
      tpl.copy(this.scratch, off);
      setRecordTimestamp(this.scratch, off, bootNs(s));
      off += tpl.length;
    }
    const events: PodtraceEvent[] = [];
    this.decoder.decode(this.scratch.subarray(0, off), events);
    this.producedCount += events.length;
    if (events.length > 0) this.subject.next({ events });
  }

  private async run(): Promise<void> {
    const { eventsPerSecond: rate, durationSeconds, batchEvents, tickMs } = this.config;
    const signal = this.abort.signal;
    const counter = new ReceivedCounter(this.decoder.stats, this.deps.metrics);
    const startMs = this.clock.now();
    const bootAtStart = this.deps.bootNsAtStart?.() ?? Number(process.hrtime.bigint());
    const limit = rate > 0 && durationSeconds > 0 ? Math.floor(rate * durationSeconds) : Infinity;
    const nsPerEvent = rate > 0 ? 1e9 / rate : 0;
    const paced = (s: number): number => bootAtStart + s * nsPerEvent;
    try {
      while (!signal.aborted) {
        const elapsedMs = this.clock.now() - startMs;
        const seq = this.producedCount + this.lostCount;
        let n: number;
        if (rate > 0) {
          const due = Math.min(limit, Math.floor((elapsedMs * rate) / 1000));
          let backlog = due - seq;
          if (backlog > this.capacityEvents) {
            const lost = backlog - this.capacityEvents;
            this.lostCount += lost;
            this.deps.metrics.drop('synthetic', 'ring_full', lost);
            backlog = this.capacityEvents;
          }
          if (backlog <= 0) {
            if (seq >= limit) break;
            await this.clock.sleep(tickMs, signal);
            continue;
          }
          n = Math.min(backlog, batchEvents);
          this.emit(this.producedCount + this.lostCount, n, paced);
        } else {
          if (durationSeconds > 0 && elapsedMs >= durationSeconds * 1000) break;
          n = batchEvents;
          const now = bootAtStart + elapsedMs * 1e6;
          this.emit(seq, n, () => now);
        }
        counter.update();
        await this.clock.yield();
      }
      this.subject.complete();
    } catch (err) {
      this.deps.logger.error({ err: errorMessage(err) }, 'synthetic source stopped');
      this.subject.error(err);
    }
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= (async () => {
      this.abort.abort();
      if (this.pump) await this.pump;
      else this.subject.complete();
    })();
    return this.shutdownPromise;
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
