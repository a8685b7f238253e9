import type { EventBase, PodtraceEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import type { WorkloadMeta } from '../../src/events/workload-meta';

export const NODE_NAME = 'node-a';

/** A frozen pod meta, shaped like enrichment's (one object shared by the container's events). */
export function podMeta(ns: string, pod: string, uid: string, container = 'app'): WorkloadMeta {
  const containerId = uid.replace(/-/g, '').padEnd(64, 'c').slice(0, 64);
  return Object.freeze({
    host: false,
    namespace: ns,
    podName: pod,
    podUid: uid,
    containerName: container,
    containerId,
    serviceName: pod.replace(/-[a-z0-9]+$/, ''),
    serviceNamespace: ns,
    attributes: Object.freeze({
      'k8s.node.name': NODE_NAME,
      'k8s.namespace.name': ns,
      'k8s.pod.name': pod,
      'k8s.pod.uid': uid,
      'k8s.container.name': container,
      'container.id': containerId,
      'container.image.name': `registry.local/${container}:1.0`,
      'k8s.pod.label.app': pod.replace(/-[a-z0-9]+$/, ''),
      'service.name': pod.replace(/-[a-z0-9]+$/, ''),
      'service.namespace': ns,
    }),
  });
}

/** A container outside any pod (plain containerd / docker). */
export function containerMeta(containerId: string): WorkloadMeta {
  return Object.freeze({
    host: false,
    namespace: null,
    podName: null,
    podUid: null,
    containerName: 'standalone',
    containerId,
    serviceName: 'standalone',
    serviceNamespace: 'container',
    attributes: Object.freeze({
      'container.id': containerId,
      'k8s.node.name': NODE_NAME,
      'service.name': 'standalone',
    }),
  });
}

export const HOST_META: WorkloadMeta = Object.freeze({
  host: true,
  namespace: null,
  podName: null,
  podUid: null,
  containerName: null,
  containerId: null,
  serviceName: 'systemd',
  serviceNamespace: 'host',
  attributes: Object.freeze({
    'k8s.node.name': NODE_NAME,
    'service.name': 'systemd',
    'service.namespace': 'host',
  }),
});

const BASE_TIME_NS = 1_763_700_000_000_000_000;

function base(i: number, kind: EventKind, meta: WorkloadMeta | null): EventBase {
  return {
    kind,
    timeUnixNs: BASE_TIME_NS + i * 1_000_123.5,
    bootNs: 5_000_000_000 + i * 1_000_000,
    pid: 1000 + (i % 50),
    // Every 13th event comes from a thread other than the leader.
    tid: 1000 + (i % 50) + (i % 13 === 0 ? 100000 : 0),
    procStartNs: 4_000_000_000 + (i % 50),
    cgroupId: 7000 + (i % 7),
    comm: i % 11 === 0 ? 'we"ird\\comm' : 'curl',
    flags: 0,
    meta,
    enrichment: meta === null ? 'none' : 'complete',
  };
}

/** Event `i` of kind `kind` (all fields filled realistically). */
export function makeEvent(i: number, kind: EventKind, meta: WorkloadMeta | null): PodtraceEvent {
  const b = base(i, kind, meta);
  const tcp = {
    family: 4 as const,
    localAddr: '10.0.0.5',
    localPort: 40000 + (i % 1000),
    remoteAddr: '10.0.1.9',
    remotePort: 8080,
    netns: 4026531840,
    threadName: i % 13 === 0 ? 'rdk:broker-1' : b.comm,
    observedSinceStart: i % 17 === 0,
  };
  switch (kind) {
    case EventKind.ProcessExec:
      return {
        ...b,
        kind,
        ppid: 1,
        parentStartNs: 1,
        uid: 1000,
        filename: '/usr/bin/curl',
        args: ['curl', '--token', 'sekrit', `http://svc/${i}`],
        argsTruncated: i % 13 === 0,
      };
    case EventKind.ProcessExit:
      return {
        ...b,
        kind,
        exitCode: i % 3 === 0 ? null : 0,
        signal: i % 3 === 0 ? 9 : null,
        lifetimeNs: 12_345_678,
      };
    case EventKind.ProcessFork:
      return { ...b, kind, childPid: 2000 + i, childStartNs: 6_000_000_000 };
    case EventKind.TcpConnect:
      return {
        ...b,
        ...tcp,
        kind,
        latencyNs: 250_000,
        errno: i % 5 === 0 ? 111 : 0,
        error: i % 5 === 0 ? 'ECONNREFUSED' : null,
      };
    case EventKind.TcpAccept:
      return { ...b, ...tcp, kind, latencyNs: 90_000 };
    case EventKind.TcpClose:
      return {
        ...b,
        ...tcp,
        kind,
        durationNs: 3_000_000_000,
        bytesSent: 512 + i,
        bytesReceived: 2048,
        oldState: 'FIN_WAIT1',
      };
    case EventKind.TcpRetransmit:
      return {
        ...b,
        ...tcp,
        family: 6,
        localAddr: 'fd00::5',
        remoteAddr: 'fd00::9',
        kind,
        state: 'ESTABLISHED',
      };
    case EventKind.OomKill:
      return {
        ...b,
        kind,
        victimPid: 3000 + i,
        triggerPid: 4000 + i,
        victimComm: 'java',
        victimCgroupId: 7001,
        pages: 262144,
        rssPages: 200000,
      };
    case EventKind.ProcessSignal:
      return {
        ...b,
        kind,
        signal: 15,
        signalName: 'SIGTERM',
        code: 'SI_USER',
        result: 'delivered',
        group: true,
        targetPid: 4000 + i,
        targetTid: 4000 + i,
        targetComm: 'nginx',
        targetCgroupId: 7002,
        targetStartNs: 5,
        senderMeta: i % 2 === 0 ? HOST_META : meta,
      };
    case EventKind.DnsQuery:
      return {
        ...b,
        kind,
        transport: i % 4 === 3 ? 'tcp' : 'udp',
        family: 4,
        clientAddr: '10.0.0.5',
        clientPort: 40000 + (i % 1000),
        serverAddr: '10.96.0.10',
        serverPort: 53,
        id: i & 0xffff,
        questionName: 'api.shop.svc.cluster.local',
        queryType: 'A',
        rcode: i % 4 === 0 ? null : i % 4 === 1 ? 3 : 0,
        answerCount: i % 4 >= 2 ? 1 : 0,
        answers: i % 4 >= 2 ? ['10.96.4.2'] : [],
        latencyNs: 1_200_000,
        timedOut: i % 4 === 0,
        error: i % 4 === 0 ? 'timeout' : i % 4 === 1 ? 'NXDOMAIN' : null,
        truncated: false,
        // A UDP answer with TC set (the TCP retry is the next event).
        answerTruncated: i % 4 === 2,
      };
    case EventKind.FileRead:
    case EventKind.FileWrite:
    case EventKind.FileFsync:
    case EventKind.FileOpen:
      return {
        ...b,
        kind,
        operation: kind === EventKind.FileFsync ? 'fdatasync' : 'read',
        path: '/var/lib/db/wal-0001',
        pathTruncated: i % 7 === 0,
        fd: kind === EventKind.FileOpen ? -1 : 7,
        bytes: kind === EventKind.FileOpen ? 0 : 8192,
        durationNs: 15_000_000,
        errno: kind === EventKind.FileOpen ? 13 : 0,
        error: kind === EventKind.FileOpen ? 'EACCES' : null,
      };
    case EventKind.SchedRunqueue:
      return {
        ...b,
        kind,
        intervalNs: 10_000_000_000,
        count: 12_000,
        p50Ns: 6_000,
        p99Ns: 900_000,
        maxNs: 4_000_000,
        meanNs: 21_000,
      };
  }
}

export const ALL_KINDS: readonly EventKind[] = [
  EventKind.ProcessExec,
  EventKind.ProcessExit,
  EventKind.ProcessFork,
  EventKind.TcpConnect,
  EventKind.TcpAccept,
  EventKind.TcpClose,
  EventKind.TcpRetransmit,
  EventKind.OomKill,
  EventKind.ProcessSignal,
  EventKind.DnsQuery,
  EventKind.FileRead,
  EventKind.FileWrite,
  EventKind.FileFsync,
  EventKind.FileOpen,
  EventKind.SchedRunqueue,
];

/** The workloads events are spread over: three pods, a bare container, the host, and unresolved. */
export function workloads(): (WorkloadMeta | null)[] {
  return [
    podMeta('shop', 'cart-7d9f', '1f0e2a3b-0000-4000-8000-000000000001'),
    podMeta('shop', 'web-5c6b', '1f0e2a3b-0000-4000-8000-000000000002'),
    podMeta('kube-system', 'coredns-x1', '1f0e2a3b-0000-4000-8000-000000000003'),
    containerMeta('ab'.repeat(32)),
    HOST_META,
    null,
  ];
}

/** `n` events cycling through kinds and workloads, in order (event `i` has bootNs increasing with i). */
export function makeEvents(
  n: number,
  offset = 0,
  metas: (WorkloadMeta | null)[] = workloads(),
): PodtraceEvent[] {
  const out: PodtraceEvent[] = [];
  for (let j = 0; j < n; j++) {
    const i = offset + j;
    out.push(makeEvent(i, ALL_KINDS[i % ALL_KINDS.length]!, metas[i % metas.length]!));
  }
  return out;
}
