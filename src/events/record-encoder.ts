import { EventKind } from './event-kind';
import {
  CGROUP,
  CGROUP_PATH_MAX,
  DNS,
  EXEC,
  EXIT,
  FILE,
  FLAG_DNS_TIMEOUT,
  FLAG_FILENAME_TRUNCATED,
  FLAG_IPV6,
  FLAG_PATH_TRUNCATED,
  FLAG_PAYLOAD_TRUNCATED,
  FLAG_SIGNAL_GROUP,
  FORK,
  HEADER,
  OOM,
  SCHED,
  SIGNAL,
  TCP,
} from './layout';
import { RecordKind } from './event-kind';

/**
 * Writes raw records exactly as the BPF programs lay them out (bpf/include/podtrace.h): the inverse
 * of RecordDecoder. Used by the synthetic source (so benchmarks pay the real decode cost) and by
 * tests that need byte-exact fixtures.
 */
export interface HeaderFields {
  kind: EventKind | RecordKind;
  flags?: number;
  cpu?: number;
  pid?: number;
  tid?: number;
  tsNs?: number;
  cgroupId?: number;
  procStartNs?: number;
  comm?: string;
}

export interface ExecFields {
  ppid: number;
  uid: number;
  parentStartNs: number;
  filename: string;
  argv: string[];
}

export interface ExitFields {
  exitCode: number;
  lifetimeNs: number;
}

export interface ForkFields {
  childPid: number;
  childStartNs: number;
}

export interface TcpFields {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  saddr: number[];
  daddr: number[];
  sport: number;
  dport: number;
  oldState: number;
  newState: number;
  netns?: number;
  err?: number;
  durationNs?: number;
  bytesSent?: number;
  bytesReceived?: number;
  /** The owning thread's comm ('' = the header's comm). */
  threadComm?: string;
}

export interface OomFields {
  victimPid: number;
  triggerPid?: number;
  victimComm: string;
  victimCgroupId: number;
  pages: number;
  rssPages: number;
}

/** Writes an unsigned 64-bit little-endian integer from a Number (exact up to 2^53). */
export function writeU64(buf: Buffer, off: number, v: number): void {
  const n = Math.max(0, Math.round(v));
  buf.writeUInt32LE(n % 4294967296, off);
  buf.writeUInt32LE(Math.floor(n / 4294967296), off + 4);
}

function writeHeader(buf: Buffer, off: number, h: HeaderFields, size: number): void {
  buf.writeUInt16LE(h.kind, off + HEADER.kind);
  buf.writeUInt16LE(size, off + HEADER.recordSize);
  buf.writeUInt16LE(h.flags ?? 0, off + HEADER.flags);
  buf.writeUInt16LE(h.cpu ?? 0, off + HEADER.cpu);
  buf.writeUInt32LE(h.pid ?? 100, off + HEADER.pid);
  buf.writeUInt32LE(h.tid ?? h.pid ?? 100, off + HEADER.tid);
  writeU64(buf, off + HEADER.tsNs, h.tsNs ?? 5_000_000_000);
  writeU64(buf, off + HEADER.cgroupId, h.cgroupId ?? 1);
  writeU64(buf, off + HEADER.procStartNs, h.procStartNs ?? 4_000_000_000);
  // Bytes as the kernel would hold them: UTF-8, cut at the field (never inside a character).
  buf.write(h.comm ?? 'comm', off + HEADER.comm, 15, 'utf8');
}

export function execRecord(h: Omit<HeaderFields, 'kind'>, e: ExecFields): Buffer {
  const argv = Buffer.from(e.argv.map((a) => `${a}\0`).join(''), 'utf8');
  const size = (EXEC.size + argv.length + 7) & ~7;
  const buf = Buffer.alloc(size);
  writeHeader(buf, 0, { ...h, kind: EventKind.ProcessExec }, size);
  buf.writeUInt32LE(e.ppid, EXEC.ppid);
  buf.writeUInt32LE(e.uid, EXEC.uid);
  writeU64(buf, EXEC.parentStartNs, e.parentStartNs);
  buf.writeUInt16LE(argv.length, EXEC.argvLen);
  buf.writeUInt16LE(buf.write(e.filename, EXEC.filename, 255, 'utf8'), EXEC.filenameLen);
  argv.copy(buf, EXEC.size);
  return buf;
}

export function exitRecord(h: Omit<HeaderFields, 'kind'>, e: ExitFields): Buffer {
  const buf = Buffer.alloc(EXIT.size);
  writeHeader(buf, 0, { ...h, kind: EventKind.ProcessExit }, EXIT.size);
  buf.writeUInt32LE(e.exitCode, EXIT.exitCode);
  writeU64(buf, EXIT.lifetimeNs, e.lifetimeNs);
  return buf;
}

export function forkRecord(h: Omit<HeaderFields, 'kind'>, e: ForkFields): Buffer {
  const buf = Buffer.alloc(FORK.size);
  writeHeader(buf, 0, { ...h, kind: EventKind.ProcessFork }, FORK.size);
  buf.writeUInt32LE(e.childPid, FORK.childPid);
  writeU64(buf, FORK.childStartNs, e.childStartNs);
  return buf;
}

/** tcp.connect / accept / close / retransmit: `h.kind` says which. IPv6 when `saddr` has 16 bytes. */
export function tcpRecord(h: HeaderFields, t: TcpFields): Buffer {
  const buf = Buffer.alloc(TCP.size);
  const v6 = t.saddr.length === 16;
  writeHeader(buf, 0, { ...h, flags: (h.flags ?? 0) | (v6 ? FLAG_IPV6 : 0) }, TCP.size);
  Buffer.from(t.saddr).copy(buf, TCP.saddr);
  Buffer.from(t.daddr).copy(buf, TCP.daddr);
  buf.writeUInt16LE(t.sport, TCP.sport);
  buf.writeUInt16LE(t.dport, TCP.dport);
  buf.writeUInt16LE(v6 ? 10 : 2, TCP.family);
  buf.writeUInt8(t.oldState, TCP.oldState);
  buf.writeUInt8(t.newState, TCP.newState);
  buf.writeUInt32LE(t.netns ?? 4026531840, TCP.netns);
  buf.writeInt32LE(t.err ?? 0, TCP.err);
  writeU64(buf, TCP.durationNs, t.durationNs ?? 0);
  writeU64(buf, TCP.bytesSent, t.bytesSent ?? 0);
  writeU64(buf, TCP.bytesReceived, t.bytesReceived ?? 0);
  buf.write(t.threadComm ?? h.comm ?? 'comm', TCP.threadComm, 15, 'utf8');
  return buf;
}

export function oomRecord(h: Omit<HeaderFields, 'kind'>, o: OomFields): Buffer {
  const buf = Buffer.alloc(OOM.size);
  writeHeader(buf, 0, { ...h, kind: EventKind.OomKill }, OOM.size);
  buf.writeUInt32LE(o.victimPid, OOM.victimPid);
  buf.writeUInt32LE(o.triggerPid ?? o.victimPid, OOM.triggerPid);
  writeU64(buf, OOM.victimCgroupId, o.victimCgroupId);
  writeU64(buf, OOM.totalVmPages, o.pages);
  writeU64(buf, OOM.rssPages, o.rssPages);
  buf.write(o.victimComm, OOM.victimComm, 15, 'utf8');
  return buf;
}

/** cgroup.mkdir / cgroup.rmdir as the `cgroup` probe group writes them (only the used part of the path). */
export function cgroupRecord(
  h: Omit<HeaderFields, 'kind'>,
  c: { op: 'mkdir' | 'rmdir'; id: number; path: string; hierarchyId?: number; level?: number },
): Buffer {
  const path = Buffer.from(c.path, 'utf8');
  const used = Math.min(path.length, CGROUP_PATH_MAX - 1);
  const size = (CGROUP.path + used + 1 + 7) & ~7;
  const buf = Buffer.alloc(size);
  const kind = c.op === 'mkdir' ? RecordKind.CgroupMkdir : RecordKind.CgroupRmdir;
  const flags = (h.flags ?? 0) | (path.length > used ? FLAG_FILENAME_TRUNCATED : 0);
  writeHeader(buf, 0, { ...h, kind, flags }, size);
  writeU64(buf, CGROUP.id, c.id);
  buf.writeUInt32LE(c.hierarchyId ?? 0, CGROUP.hierarchyId);
  buf.writeUInt16LE(c.level ?? c.path.split('/').filter((x) => x !== '').length, CGROUP.level);
  buf.writeUInt16LE(used, CGROUP.pathLen);
  path.copy(buf, CGROUP.path, 0, used);
  return buf;
}

/** Rewrites the kernel timestamp of a record already in `buf` (the synthetic source stamps copies of templates). */
export function setRecordTimestamp(buf: Buffer, recordOffset: number, tsNs: number): void {
  writeU64(buf, recordOffset + HEADER.tsNs, tsNs);
}

/** Walks the record headers of a raw batch and returns the offset where each record starts. */
export function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + HEADER.size <= buf.length) {
    const size = buf.readUInt16LE(off + HEADER.recordSize);
    if (size < HEADER.size || off + size > buf.length) break;
    out.push(off);
    off += (size + 7) & ~7;
  }
  return out;
}

export interface SignalFields {
  sig: number;
  code?: number;
  result?: number;
  group?: boolean;
  targetPid: number;
  targetTid?: number;
  targetComm: string;
  targetCgroupId: number;
  targetStartNs?: number;
}

export function signalRecord(h: Omit<HeaderFields, 'kind'>, s: SignalFields): Buffer {
  const buf = Buffer.alloc(SIGNAL.size);
  const flags = (h.flags ?? 0) | (s.group === true ? FLAG_SIGNAL_GROUP : 0);
  writeHeader(buf, 0, { ...h, flags, kind: EventKind.ProcessSignal }, SIGNAL.size);
  buf.writeUInt32LE(s.targetPid, SIGNAL.targetPid);
  buf.writeUInt32LE(s.targetTid ?? s.targetPid, SIGNAL.targetTid);
  writeU64(buf, SIGNAL.targetCgroupId, s.targetCgroupId);
  writeU64(buf, SIGNAL.targetStartNs, s.targetStartNs ?? 3_000_000_000);
  buf.writeInt32LE(s.sig, SIGNAL.sig);
  buf.writeInt32LE(s.code ?? 0, SIGNAL.code);
  buf.writeInt32LE(s.result ?? 0, SIGNAL.result);
  buf.write(s.targetComm.slice(0, 16), SIGNAL.targetComm, 'utf8');
  return buf;
}

export interface DnsFields {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  saddr: number[];
  daddr: number[];
  sport: number;
  dport: number;
  queryNs?: number;
  latencyNs: number;
  timedOut?: boolean;
  /** The DNS message (wire format): the answer, or the query when it timed out. */
  message: Buffer;
  /** Default udp. */
  transport?: 'udp' | 'tcp';
}

export function dnsRecord(h: Omit<HeaderFields, 'kind'>, d: DnsFields): Buffer {
  const payload = d.message.subarray(0, DNS.payloadMax);
  const size = (DNS.size + payload.length + 7) & ~7;
  const buf = Buffer.alloc(size);
  const v6 = d.saddr.length === 16;
  let flags = h.flags ?? 0;
  if (d.timedOut === true) flags |= FLAG_DNS_TIMEOUT;
  if (d.message.length > payload.length) flags |= FLAG_PAYLOAD_TRUNCATED;
  writeHeader(buf, 0, { ...h, flags, kind: EventKind.DnsQuery }, size);
  writeU64(buf, DNS.queryNs, d.queryNs ?? 0);
  writeU64(buf, DNS.latencyNs, d.latencyNs);
  Buffer.from(d.saddr).copy(buf, DNS.saddr);
  Buffer.from(d.daddr).copy(buf, DNS.daddr);
  buf.writeUInt16LE(d.sport, DNS.sport);
  buf.writeUInt16LE(d.dport, DNS.dport);
  buf.writeUInt16LE(v6 ? 10 : 2, DNS.family);
  buf.writeUInt16LE(payload.length, DNS.payloadLen);
  buf.writeUInt16LE(d.message.length, DNS.messageLen);
  buf.writeUInt8(d.transport === 'tcp' ? 6 : 17, DNS.transport);
  payload.copy(buf, DNS.size);
  return buf;
}

export interface FileFields {
  durationNs: number;
  bytes?: number;
  err?: number;
  fd?: number;
  op?: number;
  path: string;
  pathTruncated?: boolean;
}

/** file.read / write / fsync / open: `h.kind` says which. */
export function fileRecord(h: HeaderFields, f: FileFields): Buffer {
  const buf = Buffer.alloc(FILE.size);
  const flags = (h.flags ?? 0) | (f.pathTruncated === true ? FLAG_PATH_TRUNCATED : 0);
  writeHeader(buf, 0, { ...h, flags }, FILE.size);
  writeU64(buf, FILE.durationNs, f.durationNs);
  writeU64(buf, FILE.bytes, f.bytes ?? 0);
  buf.writeInt32LE(f.err ?? 0, FILE.err);
  buf.writeInt32LE(f.fd ?? 3, FILE.fd);
  buf.writeUInt32LE(f.op ?? 0, FILE.op);
  const path = Buffer.from(f.path, 'utf8').subarray(0, FILE.pathMax - 1);
  buf.writeUInt16LE(path.length, FILE.pathLen);
  path.copy(buf, FILE.path);
  return buf;
}

export interface SchedFields {
  intervalNs: number;
  /** Latencies (ns) to put into the log2 histogram. */
  latenciesNs: readonly number[];
}

/** sched.runqueue as the addon builds it from the kernel histogram: pid 0, no comm. */
export function schedRecord(h: Omit<HeaderFields, 'kind'>, s: SchedFields): Buffer {
  const buf = Buffer.alloc(SCHED.size);
  writeHeader(buf, 0, { pid: 0, tid: 0, comm: '', ...h, kind: EventKind.SchedRunqueue }, SCHED.size);
  const slots = new Array<number>(SCHED.slotCount).fill(0);
  let total = 0;
  let max = 0;
  for (const ns of s.latenciesNs) {
    const slot = ns <= 1 ? 0 : Math.min(SCHED.slotCount - 1, Math.floor(Math.log2(ns)));
    slots[slot] = (slots[slot] ?? 0) + 1;
    total += ns;
    max = Math.max(max, ns);
  }
  writeU64(buf, SCHED.intervalNs, s.intervalNs);
  writeU64(buf, SCHED.count, s.latenciesNs.length);
  writeU64(buf, SCHED.totalNs, total);
  writeU64(buf, SCHED.maxNs, max);
  slots.forEach((n, i) => writeU64(buf, SCHED.slots + i * 8, n));
  return buf;
}
