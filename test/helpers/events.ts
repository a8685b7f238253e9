/**
 * Builders of real-looking decoded events (the shapes the eBPF decoder produces), for sink tests.
 * Times: `bootNs` is CLOCK_BOOTTIME; `timeUnixNs` = WALL_CLOCK_OFFSET_NS + bootNs.
 */
import type {
  EnrichmentOutcome,
  EventBatch,
  OomKillEvent,
  PodtraceEvent,
  ProcessExecEvent,
  ProcessExitEvent,
  ProcessForkEvent,
  TcpAcceptEvent,
  TcpCloseEvent,
  TcpConnectEvent,
  TcpRetransmitEvent,
} from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import type { WorkloadMeta } from '../../src/events/workload-meta';

/** Boot happened at 2025-01-01T00:00:00Z. */
export const WALL_CLOCK_OFFSET_NS = 1_735_689_600_000_000_000;
export const TEST_BOOT_ID = '9f4b33f9-ea16-4c35-bc98-5f989175cb98';
export const TEST_NODE = 'node-a';

export interface WorkloadOptions {
  namespace?: string;
  pod?: string;
  container?: string;
  deployment?: string;
  image?: string;
  containerId?: string;
  labels?: Record<string, string>;
}

let containerSeq = 0;

/** A frozen container WorkloadMeta as enrichment shares it. */
export function workloadMeta(o: WorkloadOptions = {}): WorkloadMeta {
  const namespace = o.namespace ?? 'shop';
  const deployment = o.deployment ?? 'checkout';
  const pod = o.pod ?? `${deployment}-7d9f8b6c5-x2x9q`;
  const container = o.container ?? deployment;
  const containerId = o.containerId ?? (++containerSeq).toString(16).padStart(64, 'c');
  const attributes: Record<string, string> = {
    'k8s.node.name': TEST_NODE,
    'k8s.namespace.name': namespace,
    'k8s.pod.name': pod,
    'k8s.pod.uid': `0b6c5f3e-1d2a-4c3b-9e8f-${containerId.slice(0, 12)}`,
    'k8s.container.name': container,
    'k8s.deployment.name': deployment,
    'container.id': containerId,
    'container.image.name': o.image ?? `registry.example/${deployment}`,
    'container.runtime.name': 'containerd',
    'service.name': deployment,
    'service.namespace': namespace,
  };
  for (const [k, v] of Object.entries(o.labels ?? {})) attributes[`k8s.pod.label.${k}`] = v;
  return Object.freeze({
    host: false,
    namespace,
    podName: pod,
    podUid: attributes['k8s.pod.uid'] ?? null,
    containerName: container,
    containerId,
    serviceName: deployment,
    serviceNamespace: namespace,
    attributes: Object.freeze(attributes),
  });
}

/** The shared WorkloadMeta enrichment gives host processes. */
export function hostMeta(): WorkloadMeta {
  return Object.freeze({
    host: true,
    namespace: null,
    podName: null,
    podUid: null,
    containerName: null,
    containerId: null,
    serviceName: 'host',
    serviceNamespace: 'host',
    attributes: Object.freeze({ 'k8s.node.name': TEST_NODE }),
  });
}

interface Common {
  pid: number;
  /** Boot ns of the event. */
  at: number;
  /** Boot ns at which the process started. */
  procStartNs: number;
  comm?: string;
  tid?: number;
  meta?: WorkloadMeta | null;
  enrichment?: EnrichmentOutcome;
  cgroupId?: number;
}

function base(o: Common): Omit<PodtraceEvent, 'kind'> {
  return {
    timeUnixNs: WALL_CLOCK_OFFSET_NS + o.at,
    bootNs: o.at,
    pid: o.pid,
    tid: o.tid ?? o.pid,
    procStartNs: o.procStartNs,
    cgroupId: o.cgroupId ?? 4242,
    comm: o.comm ?? 'app',
    flags: 0,
    meta: o.meta ?? null,
    enrichment: o.enrichment ?? (o.meta ? 'complete' : 'none'),
  };
}

export function processExec(
  o: Common & { ppid: number; parentStartNs: number; filename?: string; args?: string[]; uid?: number },
): ProcessExecEvent {
  const filename = o.filename ?? `/usr/bin/${o.comm ?? 'app'}`;
  return {
    ...base(o),
    kind: EventKind.ProcessExec,
    ppid: o.ppid,
    parentStartNs: o.parentStartNs,
    uid: o.uid ?? 1000,
    filename,
    args: o.args ?? [filename],
    argsTruncated: false,
  };
}

export function processFork(o: Common & { childPid: number; childStartNs: number }): ProcessForkEvent {
  return { ...base(o), kind: EventKind.ProcessFork, childPid: o.childPid, childStartNs: o.childStartNs };
}

export function processExit(
  o: Common & { exitCode?: number | null; signal?: number | null },
): ProcessExitEvent {
  return {
    ...base(o),
    kind: EventKind.ProcessExit,
    exitCode: o.exitCode === undefined ? 0 : o.exitCode,
    signal: o.signal ?? null,
    lifetimeNs: o.at - o.procStartNs,
  };
}

interface Tcp {
  family?: 4 | 6;
  localAddr?: string;
  localPort?: number;
  remoteAddr?: string;
  remotePort?: number;
  comm?: string;
  threadName?: string;
  observedSinceStart?: boolean;
}

function endpoints(
  o: Tcp,
): Pick<
  TcpConnectEvent,
  | 'family'
  | 'localAddr'
  | 'localPort'
  | 'remoteAddr'
  | 'remotePort'
  | 'netns'
  | 'threadName'
  | 'observedSinceStart'
> {
  return {
    family: o.family ?? 4,
    localAddr: o.localAddr ?? '10.244.1.17',
    localPort: o.localPort ?? 43512,
    remoteAddr: o.remoteAddr ?? '10.96.0.10',
    remotePort: o.remotePort ?? 5432,
    netns: 4026532281,
    threadName: o.threadName ?? o.comm ?? 'app',
    observedSinceStart: o.observedSinceStart ?? false,
  };
}

export function tcpConnect(
  o: Common & Tcp & { latencyNs?: number; error?: string | null; errno?: number },
): TcpConnectEvent {
  return {
    ...base(o),
    ...endpoints(o),
    kind: EventKind.TcpConnect,
    latencyNs: o.latencyNs ?? 250_000,
    errno: o.errno ?? (o.error ? 111 : 0),
    error: o.error ?? null,
  };
}

export function tcpAccept(o: Common & Tcp & { latencyNs?: number }): TcpAcceptEvent {
  return { ...base(o), ...endpoints(o), kind: EventKind.TcpAccept, latencyNs: o.latencyNs ?? 120_000 };
}

export function tcpClose(
  o: Common & Tcp & { durationNs?: number; bytesSent?: number; bytesReceived?: number },
): TcpCloseEvent {
  return {
    ...base(o),
    ...endpoints(o),
    kind: EventKind.TcpClose,
    durationNs: o.durationNs ?? 2_000_000_000,
    bytesSent: o.bytesSent ?? 1234,
    bytesReceived: o.bytesReceived ?? 56789,
    oldState: 'FIN_WAIT1',
  };
}

export function tcpRetransmit(o: Common & Tcp): TcpRetransmitEvent {
  return { ...base(o), ...endpoints(o), kind: EventKind.TcpRetransmit, state: 'ESTABLISHED' };
}

export function oomKill(o: Common & { victimPid: number; victimComm: string }): OomKillEvent {
  return {
    ...base(o),
    kind: EventKind.OomKill,
    victimPid: o.victimPid,
    triggerPid: o.pid ?? o.victimPid,
    victimComm: o.victimComm,
    victimCgroupId: o.cgroupId ?? 4242,
    pages: 262144,
    rssPages: 250000,
  };
}

export function batch(...events: PodtraceEvent[]): EventBatch {
  return { events };
}

/**
 * A batch of `n` spans-worth of events from one container: alternating connect/close pairs of a
 * process that is already running, for volume tests and benchmarks.
 */
export function tcpVolumeBatch(n: number, meta: WorkloadMeta, startAt = 10_000_000_000_000): EventBatch {
  const events: PodtraceEvent[] = [];
  for (let i = 0; i < n; i++) {
    const at = startAt + i * 1000;
    const common = {
      pid: 3100 + (i % 7),
      procStartNs: 1_000_000_000 + (i % 7),
      at,
      comm: 'checkout',
      meta,
      remotePort: 5432 + (i % 3),
    };
    events.push(i % 2 === 0 ? tcpConnect(common) : tcpClose(common));
  }
  return { events };
}
