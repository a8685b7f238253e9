import type {
  DnsQueryEvent,
  EventBase,
  FileEvent,
  FileKind,
  ProcessSignalEvent,
  SchedRunqueueEvent,
} from './event';
import { EventKind } from './event-kind';
import { parseDnsMessage, qtypeName, rcodeName } from './dns-message';
import { formatIPv4, formatIPv6 } from './ip-format';
import {
  DNS,
  FILE,
  FLAG_DNS_TIMEOUT,
  FLAG_PATH_TRUNCATED,
  FLAG_PAYLOAD_TRUNCATED,
  FLAG_SIGNAL_GROUP,
  SCHED,
  SIGNAL,
} from './layout';
import { log2Percentile } from './runqueue-histogram';
import { signalCodeName, signalName, signalResultName } from './signal-names';

/** The decoded header fields every event starts with (what RecordDecoder builds). */
export type DecodedHeader = Omit<EventBase, 'kind'>;

const AF_INET6 = 10;
const IPPROTO_TCP = 6;

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 4294967296;
}

function fixedString(buf: Buffer, off: number, max: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + max ? off + max : end);
}

export function decodeSignal(
  buf: Buffer,
  off: number,
  size: number,
  base: DecodedHeader,
): ProcessSignalEvent | null {
  if (size < SIGNAL.size) return null;
  const sig = buf.readInt32LE(off + SIGNAL.sig);
  return {
    ...base,
    kind: EventKind.ProcessSignal,
    signal: sig,
    signalName: signalName(sig),
    code: signalCodeName(buf.readInt32LE(off + SIGNAL.code)),
    result: signalResultName(buf.readInt32LE(off + SIGNAL.result)),
    group: (base.flags & FLAG_SIGNAL_GROUP) !== 0,
    targetPid: buf.readUInt32LE(off + SIGNAL.targetPid),
    targetTid: buf.readUInt32LE(off + SIGNAL.targetTid),
    targetComm: fixedString(buf, off + SIGNAL.targetComm, 16),
    targetCgroupId: readU64(buf, off + SIGNAL.targetCgroupId),
    targetStartNs: readU64(buf, off + SIGNAL.targetStartNs),
    senderMeta: null,
  };
}

export function decodeDns(buf: Buffer, off: number, size: number, base: DecodedHeader): DnsQueryEvent | null {
  if (size < DNS.size) return null;
  const payloadLen = Math.min(buf.readUInt16LE(off + DNS.payloadLen), DNS.payloadMax);
  if (DNS.size + payloadLen > size) return null;
  const v6 = buf.readUInt16LE(off + DNS.family) === AF_INET6;
  const timedOut = (base.flags & FLAG_DNS_TIMEOUT) !== 0;
  const msg = parseDnsMessage(buf, off + DNS.size, payloadLen);
  const rcode = timedOut || msg === null ? null : msg.rcode;
  let error: string | null = null;
  if (timedOut) error = 'timeout';
  else if (rcode !== null && rcode !== 0) error = rcodeName(rcode);
  return {
    ...base,
    kind: EventKind.DnsQuery,
    transport: buf[off + DNS.transport] === IPPROTO_TCP ? 'tcp' : 'udp',
    family: v6 ? 6 : 4,
    clientAddr: v6 ? formatIPv6(buf, off + DNS.saddr) : formatIPv4(buf, off + DNS.saddr),
    clientPort: buf.readUInt16LE(off + DNS.sport),
    serverAddr: v6 ? formatIPv6(buf, off + DNS.daddr) : formatIPv4(buf, off + DNS.daddr),
    serverPort: buf.readUInt16LE(off + DNS.dport),
    id: msg?.id ?? 0,
    questionName: msg?.questionName ?? '',
    queryType: msg !== null && msg.qtype !== 0 ? qtypeName(msg.qtype) : '',
    rcode,
    answerCount: timedOut || msg === null ? 0 : msg.answerCount,
    answers: timedOut || msg === null ? [] : msg.addresses,
    latencyNs: readU64(buf, off + DNS.latencyNs),
    timedOut,
    error,
    truncated: (base.flags & FLAG_PAYLOAD_TRUNCATED) !== 0,
    answerTruncated: !timedOut && msg !== null && msg.tc,
  };
}

/** The syscall behind `pt_file.op`, per kind. */
const FILE_OPERATIONS: Readonly<Record<FileKind, readonly string[]>> = {
  [EventKind.FileRead]: ['read', 'pread64', 'readv', 'preadv'],
  [EventKind.FileWrite]: ['write', 'pwrite64', 'writev', 'pwritev'],
  [EventKind.FileFsync]: ['fsync', 'fdatasync', 'sync_file_range'],
  [EventKind.FileOpen]: ['openat', 'open', 'openat2', 'creat'],
};

export function decodeFile(
  buf: Buffer,
  off: number,
  size: number,
  kind: FileKind,
  base: DecodedHeader,
  errnoName: (errno: number) => string,
): FileEvent | null {
  if (size < FILE.size) return null;
  const op = buf.readUInt32LE(off + FILE.op);
  const pathLen = Math.min(buf.readUInt16LE(off + FILE.pathLen), FILE.pathMax - 1);
  const truncated = (base.flags & FLAG_PATH_TRUNCATED) !== 0;
  const raw = buf.toString('utf8', off + FILE.path, off + FILE.path + pathLen);
  const errno = buf.readInt32LE(off + FILE.err);
  const bytes = buf.readInt32LE(off + FILE.bytes + 4) * 4294967296 + buf.readUInt32LE(off + FILE.bytes);
  return {
    ...base,
    kind,
    operation: FILE_OPERATIONS[kind][op] ?? `op${op}`,
    path: truncated ? `…${raw}` : raw,
    pathTruncated: truncated,
    fd: buf.readInt32LE(off + FILE.fd),
    bytes: bytes > 0 ? bytes : 0,
    durationNs: readU64(buf, off + FILE.durationNs),
    errno,
    error: errno === 0 ? null : errnoName(errno),
  };
}

export function decodeSched(
  buf: Buffer,
  off: number,
  size: number,
  base: DecodedHeader,
): SchedRunqueueEvent | null {
  if (size < SCHED.size) return null;
  const count = readU64(buf, off + SCHED.count);
  const maxNs = readU64(buf, off + SCHED.maxNs);
  const slots: number[] = [];
  for (let i = 0; i < SCHED.slotCount; i++) slots.push(readU64(buf, off + SCHED.slots + i * 8));
  return {
    ...base,
    kind: EventKind.SchedRunqueue,
    intervalNs: readU64(buf, off + SCHED.intervalNs),
    count,
    p50Ns: log2Percentile(slots, count, maxNs, 0.5),
    p99Ns: log2Percentile(slots, count, maxNs, 0.99),
    maxNs,
    meanNs: count > 0 ? Math.round(readU64(buf, off + SCHED.totalNs) / count) : 0,
  };
}
