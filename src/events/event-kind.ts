/**
 * Event kinds, numbered explicitly. The numbers are shared with bpf/include/podtrace.h
 * (`enum pt_event_kind`) and are part of the record format: never renumber, only append.
 */
export enum EventKind {
  ProcessExec = 1,
  ProcessExit = 2,
  ProcessFork = 3,
  TcpConnect = 4,
  TcpAccept = 5,
  TcpClose = 6,
  TcpRetransmit = 7,
  OomKill = 8,
  // 9..15: attribution work; 16..31: the breadth groups.
  ProcessSignal = 16,
  DnsQuery = 17,
  FileRead = 18,
  FileWrite = 19,
  FileFsync = 20,
  FileOpen = 21,
  SchedRunqueue = 22,
}

/**
 * Record kinds that are not events: cgroup changes (probe group `cgroup`, loaded with any other
 * group) feed attribution and never reach a sink. Numbers 9–15 belong to attribution.
 */
export enum RecordKind {
  CgroupMkdir = 9,
  CgroupRmdir = 10,
}

/** The highest kind number; loss counters are indexed 0..MAX_KIND. */
export const MAX_EVENT_KIND = 22;

/** Probe groups: what a user enables with `--probes` / `source.ebpf.probes`. */
export type ProbeGroup = 'process' | 'tcp' | 'oom' | 'signal' | 'dns' | 'file' | 'sched';
export const PROBE_GROUPS: readonly ProbeGroup[] = [
  'process',
  'tcp',
  'oom',
  'signal',
  'dns',
  'file',
  'sched',
];

/** The event name: low-cardinality, used as span name, Kafka `event.name` and console column. */
export const EVENT_NAMES: Readonly<Record<EventKind, string>> = {
  [EventKind.ProcessExec]: 'process.exec',
  [EventKind.ProcessExit]: 'process.exit',
  [EventKind.ProcessFork]: 'process.fork',
  [EventKind.TcpConnect]: 'tcp.connect',
  [EventKind.TcpAccept]: 'tcp.accept',
  [EventKind.TcpClose]: 'tcp.close',
  [EventKind.TcpRetransmit]: 'tcp.retransmit',
  [EventKind.OomKill]: 'oom.kill',
  [EventKind.ProcessSignal]: 'process.signal',
  [EventKind.DnsQuery]: 'dns.query',
  [EventKind.FileRead]: 'file.read',
  [EventKind.FileWrite]: 'file.write',
  [EventKind.FileFsync]: 'file.fsync',
  [EventKind.FileOpen]: 'file.open',
  [EventKind.SchedRunqueue]: 'sched.runqueue',
};

export const EVENT_GROUPS: Readonly<Record<EventKind, ProbeGroup>> = {
  [EventKind.ProcessExec]: 'process',
  [EventKind.ProcessExit]: 'process',
  [EventKind.ProcessFork]: 'process',
  [EventKind.TcpConnect]: 'tcp',
  [EventKind.TcpAccept]: 'tcp',
  [EventKind.TcpClose]: 'tcp',
  [EventKind.TcpRetransmit]: 'tcp',
  [EventKind.OomKill]: 'oom',
  [EventKind.ProcessSignal]: 'signal',
  [EventKind.DnsQuery]: 'dns',
  [EventKind.FileRead]: 'file',
  [EventKind.FileWrite]: 'file',
  [EventKind.FileFsync]: 'file',
  [EventKind.FileOpen]: 'file',
  [EventKind.SchedRunqueue]: 'sched',
};

export const RECORD_KIND_NAMES: Readonly<Record<RecordKind, string>> = {
  [RecordKind.CgroupMkdir]: 'cgroup.mkdir',
  [RecordKind.CgroupRmdir]: 'cgroup.rmdir',
};

export function eventName(kind: number): string {
  return EVENT_NAMES[kind as EventKind] ?? RECORD_KIND_NAMES[kind as RecordKind] ?? `unknown.${kind}`;
}

/** Every record kind number that has a name (events and attribution records), ascending. */
export const NAMED_KINDS: readonly number[] = [...Object.keys(EVENT_NAMES), ...Object.keys(RECORD_KIND_NAMES)]
  .map(Number)
  .sort((a, b) => a - b);
