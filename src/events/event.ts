import type { EventKind } from './event-kind';
import type { WorkloadMeta } from './workload-meta';

/**
 * Decoded events. One plain object per event with a fixed shape per kind; enrichment adds a
 * reference to a shared, frozen `WorkloadMeta` (never a per-event copy of attributes).
 *
 * Times: the BPF programs stamp records with CLOCK_BOOTTIME (`bpf_ktime_get_boot_ns`), which keeps
 * counting across suspend. `timeUnixNs` is boot time + (CLOCK_REALTIME - CLOCK_BOOTTIME) measured by
 * the addon and refreshed periodically (see src/events/clock.ts). It is a double: exact to ~256 ns
 * for current dates, which is below the resolution any sink needs. Durations are exact differences of
 * kernel timestamps.
 */
export interface EventBase {
  kind: EventKind;
  /** Wall-clock nanoseconds since the Unix epoch of the kernel timestamp. */
  timeUnixNs: number;
  /** CLOCK_BOOTTIME nanoseconds as recorded by the kernel. */
  bootNs: number;
  /** Process id (kernel tgid). 0 when the owner of a socket is unknown. */
  pid: number;
  /** Thread id (kernel pid). */
  tid: number;
  /** Boot-time ns at which the process (thread-group leader) started: (pid, procStartNs) names a process uniquely. */
  procStartNs: number;
  /**
   * Id of the cgroup in the attribution hierarchy (cgroup2, or the v1 controller's in cgroup-v1 mode):
   * the inode of its directory. For tcp.* the socket's own cgroup. 0 when unknown.
   */
  cgroupId: number;
  /** The process's name: the thread-group leader's comm (UTF-8, invalid bytes as U+FFFD). */
  comm: string;
  /** Header flags (PT_FLAG_*). */
  flags: number;
  /** Filled by enrichment: the container/pod this event belongs to, or null for the host / unknown. */
  meta: WorkloadMeta | null;
  /** Filled by enrichment. */
  enrichment: EnrichmentOutcome;
}

/** `complete`: everything known; `partial`: e.g. CRI known, Kubernetes API not; `none`: nothing resolved. Host processes are `complete` with `meta.host = true`. */
export type EnrichmentOutcome = 'complete' | 'partial' | 'none' | 'pending';

export interface ProcessExecEvent extends EventBase {
  kind: EventKind.ProcessExec;
  ppid: number;
  /** Boot-time ns start of the parent process (links the child to the parent's span). */
  parentStartNs: number;
  uid: number;
  filename: string;
  args: string[];
  /** argv was longer than `source.ebpf.argvBytes` and was cut. */
  argsTruncated: boolean;
}

export interface ProcessExitEvent extends EventBase {
  kind: EventKind.ProcessExit;
  /** Exit status (0..255) when the process exited, else null. */
  exitCode: number | null;
  /** Terminating signal number when killed by a signal, else null. */
  signal: number | null;
  lifetimeNs: number;
}

export interface ProcessForkEvent extends EventBase {
  kind: EventKind.ProcessFork;
  childPid: number;
  childStartNs: number;
}

/** Addresses are strings: dotted IPv4 or RFC 5952 IPv6. */
export interface TcpEndpoints {
  family: 4 | 6;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  /** Network namespace inode of the socket. */
  netns: number;
  /** comm of the thread (`tid`) that owns the socket; '' when the owner is unknown. */
  threadName: string;
  /** The connection existed before podtrace started: its duration cannot be known (reported as 0). */
  observedSinceStart: boolean;
}

export interface TcpConnectEvent extends EventBase, TcpEndpoints {
  kind: EventKind.TcpConnect;
  /** SYN_SENT → ESTABLISHED (or → CLOSE on failure), ns. */
  latencyNs: number;
  /** 0 on success, else the errno (111 ECONNREFUSED, 110 ETIMEDOUT, 113 EHOSTUNREACH, ...). */
  errno: number;
  /** errno name (`ECONNREFUSED`) or null on success. */
  error: string | null;
}

export interface TcpAcceptEvent extends EventBase, TcpEndpoints {
  kind: EventKind.TcpAccept;
  /**
   * SYN received → ESTABLISHED on the server side, ns: the kernel's first RTT sample of the
   * handshake (SYN-ACK sent → ACK received). 0 when the kernel took no sample (not reported).
   */
  latencyNs: number;
}

export interface TcpCloseEvent extends EventBase, TcpEndpoints {
  kind: EventKind.TcpClose;
  /** ESTABLISHED → CLOSE, ns (0 when the connection was older than podtrace). */
  durationNs: number;
  bytesSent: number;
  bytesReceived: number;
  /** The TCP state the socket left (e.g. 'FIN_WAIT1', 'ESTABLISHED'). */
  oldState: string;
}

export interface TcpRetransmitEvent extends EventBase, TcpEndpoints {
  kind: EventKind.TcpRetransmit;
  state: string;
}

/** The header (pid, comm, cgroupId) describes the victim; `triggerPid` is the allocating process. */
export interface OomKillEvent extends EventBase {
  kind: EventKind.OomKill;
  victimPid: number;
  /** The process whose allocation invoked the OOM killer (often not the victim). */
  triggerPid: number;
  victimComm: string;
  victimCgroupId: number;
  /** Pages of the victim (total_vm) at the kill. */
  pages: number;
  /** Resident pages (anon + file + shmem) when the kernel reports them, else 0. */
  rssPages: number;
}

/**
 * A signal generated to a process. The header (pid, tid, comm, cgroupId) is the sender's; the event
 * is attributed to the target (enrichment resolves `targetCgroupId`; `senderMeta` is the sender's).
 */
export interface ProcessSignalEvent extends EventBase {
  kind: EventKind.ProcessSignal;
  signal: number;
  /** `SIGTERM`, `SIGUSR1`, …, `SIGRTMIN+3`. */
  signalName: string;
  /** si_code name: `SI_USER` (kill), `SI_TKILL`, `SI_QUEUE`, `SI_KERNEL`, or the number. */
  code: string;
  /** `delivered`, `ignored`, `already_pending`, `overflow_fail`, `lose_info`. */
  result: string;
  /** Sent to the whole process (kill) rather than one thread (tgkill). */
  group: boolean;
  targetPid: number;
  targetTid: number;
  targetComm: string;
  targetCgroupId: number;
  targetStartNs: number;
  /** Filled by enrichment: the sender's container, or null for the host / unknown. */
  senderMeta: WorkloadMeta | null;
}

/** One DNS query and its answer (or its timeout). */
export interface DnsQueryEvent extends EventBase {
  kind: EventKind.DnsQuery;
  transport: 'udp' | 'tcp';
  family: 4 | 6;
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  /** DNS message id. */
  id: number;
  /** `example.com` (no trailing dot); '' when the message could not be parsed. */
  questionName: string;
  /** `A`, `AAAA`, `SRV`, … or `TYPE<n>`. */
  queryType: string;
  /** Response code; null on timeout. */
  rcode: number | null;
  answerCount: number;
  /** A/AAAA addresses in the answer section (as far as the captured bytes reach). */
  answers: string[];
  /** Query → answer, ns; on timeout how long podtrace waited. */
  latencyNs: number;
  timedOut: boolean;
  /** rcode name when not NOERROR (`NXDOMAIN`, `SERVFAIL`, …), `timeout`, or null. */
  error: string | null;
  /** The message was longer than the captured bytes. */
  truncated: boolean;
  /** The server set TC (the answer did not fit in UDP; resolvers retry over TCP, a second event). */
  answerTruncated: boolean;
}

export type FileKind = EventKind.FileRead | EventKind.FileWrite | EventKind.FileFsync | EventKind.FileOpen;

/** A slow read/write/fsync or a failed open. */
export interface FileEvent extends EventBase {
  kind: FileKind;
  /** The syscall: `read`, `pread64`, `write`, `fsync`, `fdatasync`, `sync_file_range`, `openat`, …. */
  operation: string;
  path: string;
  /** The path is cut (deeper than the walk bound or longer than the field); it starts with `…/`. */
  pathTruncated: boolean;
  fd: number;
  bytes: number;
  durationNs: number;
  errno: number;
  error: string | null;
}

/** Run-queue latency (wakeup → on CPU) of one container over one interval, aggregated in the kernel. */
export interface SchedRunqueueEvent extends EventBase {
  kind: EventKind.SchedRunqueue;
  intervalNs: number;
  count: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  meanNs: number;
}

export type PodtraceEvent =
  | ProcessExecEvent
  | ProcessExitEvent
  | ProcessForkEvent
  | TcpConnectEvent
  | TcpAcceptEvent
  | TcpCloseEvent
  | TcpRetransmitEvent
  | OomKillEvent
  | ProcessSignalEvent
  | DnsQueryEvent
  | FileEvent
  | SchedRunqueueEvent;

/**
 * A cgroup created or removed in the attribution hierarchy (cgroup:cgroup_mkdir / cgroup_rmdir):
 * attribution plumbing that feeds the enricher's id → path cache; never exported by sinks.
 */
export interface CgroupChange {
  op: 'mkdir' | 'rmdir';
  id: number;
  /** Relative to the hierarchy's root (not to any cgroup namespace), UTF-8. */
  path: string;
  /** The kernel cut the path at its field size: resolve it another way. */
  truncated: boolean;
  bootNs: number;
}

/** The unit of flow: a batch of events, in kernel order within one source. */
export interface EventBatch {
  events: PodtraceEvent[];
  /**
   * cgroup changes seen in the same records. Ids are never reused, so a consumer applies the
   * mkdirs before the batch's events and the rmdirs after them.
   */
  cgroups?: CgroupChange[];
}
