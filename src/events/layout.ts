/**
 * Byte offsets of the records in bpf/include/podtrace.h. The addon static_asserts the same
 * numbers and reports them through `layout()`; `verifyLayout()` compares both at start-up.
 */
export const RECORD_VERSION = 2;

export const HEADER = {
  size: 56,
  kind: 0,
  recordSize: 2,
  flags: 4,
  cpu: 6,
  pid: 8,
  tid: 12,
  tsNs: 16,
  cgroupId: 24,
  procStartNs: 32,
  comm: 40,
} as const;

export const EXEC = {
  size: 336,
  ppid: 56,
  uid: 60,
  parentStartNs: 64,
  filenameLen: 72,
  argvLen: 74,
  filename: 80,
} as const;
export const EXIT = { size: 72, exitCode: 56, lifetimeNs: 64 } as const;
export const FORK = { size: 72, childPid: 56, childStartNs: 64 } as const;
export const TCP = {
  size: 144,
  saddr: 56,
  daddr: 72,
  sport: 88,
  dport: 90,
  family: 92,
  oldState: 94,
  newState: 95,
  netns: 96,
  err: 100,
  durationNs: 104,
  bytesSent: 112,
  bytesReceived: 120,
  threadComm: 128,
} as const;
export const OOM = {
  size: 104,
  victimPid: 56,
  triggerPid: 60,
  victimCgroupId: 64,
  totalVmPages: 72,
  rssPages: 80,
  victimComm: 88,
} as const;

export const SIGNAL = {
  size: 112,
  targetPid: 56,
  targetTid: 60,
  targetCgroupId: 64,
  targetStartNs: 72,
  sig: 80,
  code: 84,
  result: 88,
  targetComm: 96,
} as const;
export const DNS = {
  size: 120,
  queryNs: 56,
  latencyNs: 64,
  saddr: 72,
  daddr: 88,
  sport: 104,
  dport: 106,
  family: 108,
  payloadLen: 110,
  messageLen: 112,
  transport: 114,
  payloadMax: 512,
} as const;
export const FILE = {
  size: 344,
  durationNs: 56,
  bytes: 64,
  err: 72,
  fd: 76,
  op: 80,
  pathLen: 84,
  path: 88,
  pathMax: 256,
} as const;
export const SCHED = {
  size: 344,
  intervalNs: 56,
  count: 64,
  totalNs: 72,
  maxNs: 80,
  slots: 88,
  slotCount: 32,
} as const;

export const FLAG_ARGV_TRUNCATED = 1 << 0;
export const FLAG_OWNER_UNKNOWN = 1 << 1;
export const FLAG_IPV6 = 1 << 2;
export const FLAG_SIGNALED = 1 << 3;
export const FLAG_FILENAME_TRUNCATED = 1 << 4;
/** tcp.*: the connection is older than podtrace (no duration can be known). */
export const FLAG_PREEXISTING = 1 << 5;

/** cgroup.mkdir / cgroup.rmdir: fixed part, then path_len bytes of path (record size is rounded to 8). */
export const CGROUP = { size: 584, id: 56, hierarchyId: 64, level: 68, pathLen: 70, path: 72 } as const;
export const CGROUP_PATH_MAX = 512;
export const FLAG_DNS_TIMEOUT = 1 << 8;
export const FLAG_PAYLOAD_TRUNCATED = 1 << 9;
export const FLAG_PATH_TRUNCATED = 1 << 10;
export const FLAG_SIGNAL_GROUP = 1 << 11;

/** The C field names (as the addon reports them) for each TypeScript offset. */
const EXPECTED: Record<string, Record<string, number>> = {
  pt_header: {
    sizeof: HEADER.size,
    kind: HEADER.kind,
    size: HEADER.recordSize,
    flags: HEADER.flags,
    cpu: HEADER.cpu,
    pid: HEADER.pid,
    tid: HEADER.tid,
    ts_ns: HEADER.tsNs,
    cgroup_id: HEADER.cgroupId,
    proc_start_ns: HEADER.procStartNs,
    comm: HEADER.comm,
  },
  pt_exec: {
    sizeof: EXEC.size,
    ppid: EXEC.ppid,
    uid: EXEC.uid,
    parent_start_ns: EXEC.parentStartNs,
    filename_len: EXEC.filenameLen,
    argv_len: EXEC.argvLen,
    filename: EXEC.filename,
  },
  pt_exit: { sizeof: EXIT.size, exit_code: EXIT.exitCode, lifetime_ns: EXIT.lifetimeNs },
  pt_fork: { sizeof: FORK.size, child_pid: FORK.childPid, child_start_ns: FORK.childStartNs },
  pt_tcp: {
    sizeof: TCP.size,
    saddr: TCP.saddr,
    daddr: TCP.daddr,
    sport: TCP.sport,
    dport: TCP.dport,
    family: TCP.family,
    old_state: TCP.oldState,
    new_state: TCP.newState,
    netns: TCP.netns,
    err: TCP.err,
    duration_ns: TCP.durationNs,
    bytes_sent: TCP.bytesSent,
    bytes_received: TCP.bytesReceived,
    thread_comm: TCP.threadComm,
  },
  pt_oom: {
    sizeof: OOM.size,
    victim_pid: OOM.victimPid,
    trigger_pid: OOM.triggerPid,
    victim_cgroup_id: OOM.victimCgroupId,
    total_vm_pages: OOM.totalVmPages,
    rss_pages: OOM.rssPages,
    victim_comm: OOM.victimComm,
  },
  pt_cgroup: {
    sizeof: CGROUP.size,
    id: CGROUP.id,
    hierarchy_id: CGROUP.hierarchyId,
    level: CGROUP.level,
    path_len: CGROUP.pathLen,
    path: CGROUP.path,
  },
  pt_signal: {
    sizeof: SIGNAL.size,
    target_pid: SIGNAL.targetPid,
    target_tid: SIGNAL.targetTid,
    target_cgroup_id: SIGNAL.targetCgroupId,
    target_start_ns: SIGNAL.targetStartNs,
    sig: SIGNAL.sig,
    code: SIGNAL.code,
    result: SIGNAL.result,
    target_comm: SIGNAL.targetComm,
  },
  pt_dns: {
    sizeof: DNS.size,
    query_ns: DNS.queryNs,
    latency_ns: DNS.latencyNs,
    saddr: DNS.saddr,
    daddr: DNS.daddr,
    sport: DNS.sport,
    dport: DNS.dport,
    family: DNS.family,
    payload_len: DNS.payloadLen,
    message_len: DNS.messageLen,
    transport: DNS.transport,
  },
  pt_file: {
    sizeof: FILE.size,
    duration_ns: FILE.durationNs,
    bytes: FILE.bytes,
    err: FILE.err,
    fd: FILE.fd,
    op: FILE.op,
    path_len: FILE.pathLen,
    path: FILE.path,
  },
  pt_sched: {
    sizeof: SCHED.size,
    interval_ns: SCHED.intervalNs,
    count: SCHED.count,
    total_ns: SCHED.totalNs,
    max_ns: SCHED.maxNs,
    slots: SCHED.slots,
  },
};

export type NativeLayout = Record<string, Record<string, number>>;

/**
 * Returns the mismatches between the decoder's offsets and the addon's (empty when they agree).
 * `sizeof` is the struct size; every other key is a field offset.
 */
export function layoutMismatches(native: NativeLayout): string[] {
  const problems: string[] = [];
  for (const [struct, fields] of Object.entries(EXPECTED)) {
    const got = native[struct];
    if (!got) {
      problems.push(`${struct}: missing from the addon`);
      continue;
    }
    for (const [field, offset] of Object.entries(fields)) {
      if (got[field] !== offset)
        problems.push(`${struct}.${field}: decoder ${offset}, addon ${String(got[field])}`);
    }
  }
  return problems;
}
