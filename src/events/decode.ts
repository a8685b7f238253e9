import { constants as osConstants } from 'node:os';
import type { BootClock } from './clock';
import type { Redactor } from './redact';
import type { CgroupChange, EventBase, PodtraceEvent } from './event';
import { EventKind, MAX_EVENT_KIND, RecordKind } from './event-kind';
import {
  CGROUP,
  CGROUP_PATH_MAX,
  EXEC,
  EXIT,
  FLAG_ARGV_TRUNCATED,
  FLAG_FILENAME_TRUNCATED,
  FLAG_IPV6,
  FLAG_PREEXISTING,
  FORK,
  HEADER,
  OOM,
  TCP,
} from './layout';
import { formatIPv4, formatIPv6 } from './ip-format';
import { decodeDns, decodeFile, decodeSched, decodeSignal } from './decode-breadth';

export { formatIPv4, formatIPv6 } from './ip-format';

const TCP_STATES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
];
const TCP_ESTABLISHED = 1;

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name] as [number, string]),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

export function tcpStateName(state: number): string {
  return TCP_STATES[state] ?? `STATE_${state}`;
}

/** Counts what the decoder saw and what it could not decode. */
export interface DecodeStats {
  records: number;
  /** Records with an unknown kind or an impossible size (skipped, counted). */
  malformed: number;
  perKind: number[];
}

export function newDecodeStats(): DecodeStats {
  return { records: 0, malformed: 0, perKind: new Array<number>(MAX_EVENT_KIND + 1).fill(0) };
}

/**
 * comm strings repeat endlessly (a handful of process names make most events): cache them by
 * their 16 bytes so each name is decoded once and shared.
 */
class CommCache {
  private readonly entries = new Map<number, { a: number; b: number; c: number; d: number; s: string }>();

  get(buf: Buffer, off: number): string {
    const a = buf.readUInt32LE(off);
    const b = buf.readUInt32LE(off + 4);
    const c = buf.readUInt32LE(off + 8);
    const d = buf.readUInt32LE(off + 12);
    const h = (a ^ Math.imul(b, 31) ^ Math.imul(c, 961) ^ Math.imul(d, 29791)) >>> 0;
    const e = this.entries.get(h);
    if (e !== undefined && e.a === a && e.b === b && e.c === c && e.d === d) return e.s;
    const s = cString(buf, off, 16);
    if (this.entries.size > 4096) this.entries.clear();
    this.entries.set(h, { a, b, c, d, s });
    return s;
  }
}

/**
 * A NUL-terminated string inside a fixed field. The kernel hands bytes (comm, argv, paths) and users
 * write UTF-8: decoded as UTF-8, each invalid byte sequence becomes U+FFFD.
 */
export function cString(buf: Buffer, off: number, max: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + max ? off + max : end);
}

function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 4294967296;
}

type EventHeader = Omit<EventBase, 'kind'>;

/**
 * The four TCP kinds share one record layout. The event is built as one object literal (no
 * intermediate endpoints object spread into it): this runs once per TCP event.
 */
function decodeTcp(
  buf: Buffer,
  off: number,
  kind: EventKind,
  flags: number,
  base: EventHeader,
  comms: CommCache,
): PodtraceEvent {
  const v6 = (flags & FLAG_IPV6) !== 0;
  const family: 4 | 6 = v6 ? 6 : 4;
  const localAddr = v6 ? formatIPv6(buf, off + TCP.saddr) : formatIPv4(buf, off + TCP.saddr);
  const localPort = buf.readUInt16LE(off + TCP.sport);
  const remoteAddr = v6 ? formatIPv6(buf, off + TCP.daddr) : formatIPv4(buf, off + TCP.daddr);
  const remotePort = buf.readUInt16LE(off + TCP.dport);
  const netns = buf.readUInt32LE(off + TCP.netns);
  const duration = readU64(buf, off + TCP.durationNs);
  const threadName = comms.get(buf, off + TCP.threadComm);
  const observedSinceStart = (flags & FLAG_PREEXISTING) !== 0;
  switch (kind) {
    case EventKind.TcpConnect: {
      const ok = buf[off + TCP.newState] === TCP_ESTABLISHED;
      const err = buf.readInt32LE(off + TCP.err);
      const errno = ok ? 0 : err > 0 ? err : osConstants.errno.ECONNABORTED;
      return {
        ...base,
        kind,
        family,
        localAddr,
        localPort,
        remoteAddr,
        remotePort,
        netns,
        threadName,
        observedSinceStart,
        latencyNs: duration,
        errno,
        error: errno === 0 ? null : errnoName(errno),
      };
    }
    case EventKind.TcpAccept:
      return {
        ...base,
        kind,
        family,
        localAddr,
        localPort,
        remoteAddr,
        remotePort,
        netns,
        threadName,
        observedSinceStart,
        latencyNs: duration,
      };
    case EventKind.TcpClose:
      return {
        ...base,
        kind,
        family,
        localAddr,
        localPort,
        remoteAddr,
        remotePort,
        netns,
        threadName,
        observedSinceStart,
        durationNs: duration,
        bytesSent: readU64(buf, off + TCP.bytesSent),
        bytesReceived: readU64(buf, off + TCP.bytesReceived),
        oldState: tcpStateName(buf[off + TCP.oldState] ?? 0),
      };
    default:
      return {
        ...base,
        kind: EventKind.TcpRetransmit,
        family,
        localAddr,
        localPort,
        remoteAddr,
        remotePort,
        netns,
        threadName,
        observedSinceStart,
        state: tcpStateName(buf[off + TCP.oldState] ?? 0),
      };
  }
}

/** cgroup.mkdir / cgroup.rmdir: the record carries only the used part of its path. */
function decodeCgroup(buf: Buffer, off: number, kind: RecordKind, size: number): CgroupChange | null {
  if (size < CGROUP.path) return null;
  const pathLen = Math.min(buf.readUInt16LE(off + CGROUP.pathLen), CGROUP_PATH_MAX - 1, size - CGROUP.path);
  const start = off + CGROUP.path;
  const raw = buf.toString('utf8', start, start + pathLen);
  return {
    op: kind === RecordKind.CgroupMkdir ? 'mkdir' : 'rmdir',
    id: readU64(buf, off + CGROUP.id),
    path: raw === '' ? '/' : raw,
    truncated: (buf.readUInt16LE(off + HEADER.flags) & FLAG_FILENAME_TRUNCATED) !== 0,
    bootNs: readU64(buf, off + HEADER.tsNs),
  };
}

/**
 * Decodes a batch of raw records (as the addon hands them: contiguous, 8-byte aligned, each
 * starting with pt_header) and appends the events to `out`. Malformed records are counted and
 * skipped; a record whose size would overrun the batch, or trailing bytes shorter than a header,
 * end decoding of that batch and count as one malformed record. Never throws on any input.
 */
export class RecordDecoder {
  private readonly comms = new CommCache();
  readonly stats: DecodeStats = newDecodeStats();

  /** `redactor`: secrets in exec argv are redacted here, once per event, before any stage sees them. */
  constructor(
    private readonly clock: BootClock,
    private readonly redactor?: Redactor,
  ) {}

  /**
   * `cgroups` receives the cgroup.mkdir / cgroup.rmdir records (attribution, not events); without
   * it they are counted and skipped.
   */
  decode(buf: Buffer, out: PodtraceEvent[], cgroups?: CgroupChange[]): void {
    this.clock.refresh();
    const offset = this.clock.offset;
    let off = 0;
    while (off + HEADER.size <= buf.length) {
      const kind = buf.readUInt16LE(off + HEADER.kind);
      const size = buf.readUInt16LE(off + HEADER.recordSize);
      if (size < HEADER.size || off + size > buf.length) {
        this.stats.malformed++;
        return;
      }
      const recordKind = kind as RecordKind;
      if (recordKind === RecordKind.CgroupMkdir || recordKind === RecordKind.CgroupRmdir) {
        const c = decodeCgroup(buf, off, recordKind, size);
        if (c === null) this.stats.malformed++;
        else {
          cgroups?.push(c);
          this.stats.records++;
          this.stats.perKind[kind] = (this.stats.perKind[kind] ?? 0) + 1;
        }
        off += (size + 7) & ~7;
        continue;
      }
      const e = this.decodeOne(buf, off, kind, size, offset);
      if (e === null) this.stats.malformed++;
      else {
        out.push(e);
        this.stats.records++;
        this.stats.perKind[kind] = (this.stats.perKind[kind] ?? 0) + 1;
      }
      off += (size + 7) & ~7;
    }
    // Bytes too few for a record header: the addon never hands out a partial record.
    if (off < buf.length) this.stats.malformed++;
  }

  private decodeOne(
    buf: Buffer,
    off: number,
    kind: number,
    size: number,
    clockOffset: number,
  ): PodtraceEvent | null {
    const bootNs = readU64(buf, off + HEADER.tsNs);
    const flags = buf.readUInt16LE(off + HEADER.flags);
    const base = {
      timeUnixNs: bootNs + clockOffset,
      bootNs,
      pid: buf.readUInt32LE(off + HEADER.pid),
      tid: buf.readUInt32LE(off + HEADER.tid),
      procStartNs: readU64(buf, off + HEADER.procStartNs),
      cgroupId: readU64(buf, off + HEADER.cgroupId),
      comm: this.comms.get(buf, off + HEADER.comm),
      flags,
      meta: null,
      enrichment: 'pending' as const,
    };
    switch (kind as EventKind) {
      case EventKind.ProcessExec: {
        if (size < EXEC.size) return null;
        const argvLen = buf.readUInt16LE(off + EXEC.argvLen);
        const fnLen = Math.min(buf.readUInt16LE(off + EXEC.filenameLen), 255);
        const argvStart = off + EXEC.size;
        if (argvStart + argvLen > off + size) return null;
        const args = argvLen > 0 ? buf.toString('utf8', argvStart, argvStart + argvLen).split('\0') : [];
        // argv is NUL-terminated: the split leaves one empty tail (or a cut last argument).
        if (args.length > 0 && args[args.length - 1] === '') args.pop();
        return {
          ...base,
          kind: EventKind.ProcessExec,
          ppid: buf.readUInt32LE(off + EXEC.ppid),
          parentStartNs: readU64(buf, off + EXEC.parentStartNs),
          uid: buf.readUInt32LE(off + EXEC.uid),
          filename: buf.toString('utf8', off + EXEC.filename, off + EXEC.filename + fnLen),
          args: this.redactor === undefined ? args : (this.redactor.args(args) as string[]),
          argsTruncated: (flags & FLAG_ARGV_TRUNCATED) !== 0,
        };
      }
      case EventKind.ProcessExit: {
        if (size < EXIT.size) return null;
        const status = buf.readUInt32LE(off + EXIT.exitCode);
        const signal = status & 0x7f;
        return {
          ...base,
          kind: EventKind.ProcessExit,
          exitCode: signal === 0 ? (status >> 8) & 0xff : null,
          signal: signal !== 0 ? signal : null,
          lifetimeNs: readU64(buf, off + EXIT.lifetimeNs),
        };
      }
      case EventKind.ProcessFork:
        if (size < FORK.size) return null;
        return {
          ...base,
          kind: EventKind.ProcessFork,
          childPid: buf.readUInt32LE(off + FORK.childPid),
          childStartNs: readU64(buf, off + FORK.childStartNs),
        };
      case EventKind.TcpConnect:
      case EventKind.TcpAccept:
      case EventKind.TcpClose:
      case EventKind.TcpRetransmit:
        return size < TCP.size ? null : decodeTcp(buf, off, kind, flags, base, this.comms);
      case EventKind.OomKill:
        if (size < OOM.size) return null;
        return {
          ...base,
          kind: EventKind.OomKill,
          victimPid: buf.readUInt32LE(off + OOM.victimPid),
          triggerPid: buf.readUInt32LE(off + OOM.triggerPid),
          victimComm: cString(buf, off + OOM.victimComm, 16),
          victimCgroupId: readU64(buf, off + OOM.victimCgroupId),
          pages: readU64(buf, off + OOM.totalVmPages),
          rssPages: readU64(buf, off + OOM.rssPages),
        };
      case EventKind.ProcessSignal:
        return decodeSignal(buf, off, size, base);
      case EventKind.DnsQuery:
        return decodeDns(buf, off, size, base);
      case EventKind.FileRead:
      case EventKind.FileWrite:
      case EventKind.FileFsync:
      case EventKind.FileOpen:
        return decodeFile(buf, off, size, kind, base, errnoName);
      case EventKind.SchedRunqueue:
        return decodeSched(buf, off, size, base);
      default:
        return null;
    }
  }
}
