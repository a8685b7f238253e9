import { EXEC, EXIT, FLAG_IPV6, FORK, HEADER, OOM, TCP } from '../../src/events/layout';
import { EventKind } from '../../src/events/event-kind';

/** Writes raw records exactly as the BPF programs lay them out (bpf/include/podtrace.h). */
export interface HeaderFields {
  kind: EventKind;
  flags?: number;
  pid?: number;
  tid?: number;
  tsNs?: number;
  cgroupId?: number;
  procStartNs?: number;
  comm?: string;
}

function writeU64(buf: Buffer, off: number, v: number): void {
  buf.writeBigUInt64LE(BigInt(Math.round(v)), off);
}

function header(buf: Buffer, h: HeaderFields, size: number): void {
  buf.writeUInt16LE(h.kind, HEADER.kind);
  buf.writeUInt16LE(size, HEADER.recordSize);
  buf.writeUInt16LE(h.flags ?? 0, HEADER.flags);
  buf.writeUInt32LE(h.pid ?? 100, HEADER.pid);
  buf.writeUInt32LE(h.tid ?? h.pid ?? 100, HEADER.tid);
  writeU64(buf, HEADER.tsNs, h.tsNs ?? 5_000_000_000);
  writeU64(buf, HEADER.cgroupId, h.cgroupId ?? 1);
  writeU64(buf, HEADER.procStartNs, h.procStartNs ?? 4_000_000_000);
  buf.write((h.comm ?? 'comm').slice(0, 16), HEADER.comm, 'latin1');
}

export function execRecord(
  h: Omit<HeaderFields, 'kind'>,
  e: { ppid: number; uid: number; parentStartNs: number; filename: string; argv: string[] },
): Buffer {
  const argv = Buffer.from(e.argv.map((a) => `${a}\0`).join(''), 'latin1');
  const size = (EXEC.size + argv.length + 7) & ~7;
  const buf = Buffer.alloc(size);
  header(buf, { ...h, kind: EventKind.ProcessExec }, size);
  buf.writeUInt32LE(e.ppid, EXEC.ppid);
  buf.writeUInt32LE(e.uid, EXEC.uid);
  writeU64(buf, EXEC.parentStartNs, e.parentStartNs);
  buf.writeUInt16LE(e.filename.length, EXEC.filenameLen);
  buf.writeUInt16LE(argv.length, EXEC.argvLen);
  buf.write(e.filename, EXEC.filename, 'latin1');
  argv.copy(buf, EXEC.size);
  return buf;
}

export function exitRecord(
  h: Omit<HeaderFields, 'kind'>,
  e: { exitCode: number; lifetimeNs: number },
): Buffer {
  const buf = Buffer.alloc(EXIT.size);
  header(buf, { ...h, kind: EventKind.ProcessExit }, EXIT.size);
  buf.writeUInt32LE(e.exitCode, EXIT.exitCode);
  writeU64(buf, EXIT.lifetimeNs, e.lifetimeNs);
  return buf;
}

export function forkRecord(
  h: Omit<HeaderFields, 'kind'>,
  e: { childPid: number; childStartNs: number },
): Buffer {
  const buf = Buffer.alloc(FORK.size);
  header(buf, { ...h, kind: EventKind.ProcessFork }, FORK.size);
  buf.writeUInt32LE(e.childPid, FORK.childPid);
  writeU64(buf, FORK.childStartNs, e.childStartNs);
  return buf;
}

export interface TcpFields {
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
}

export function tcpRecord(h: HeaderFields, t: TcpFields): Buffer {
  const buf = Buffer.alloc(TCP.size);
  const v6 = t.saddr.length === 16;
  header(buf, { ...h, flags: (h.flags ?? 0) | (v6 ? FLAG_IPV6 : 0) }, TCP.size);
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
  return buf;
}

export function oomRecord(
  h: Omit<HeaderFields, 'kind'>,
  o: { victimPid: number; victimComm: string; victimCgroupId: number; pages: number; rssPages: number },
): Buffer {
  const buf = Buffer.alloc(OOM.size);
  header(buf, { ...h, kind: EventKind.OomKill }, OOM.size);
  buf.writeUInt32LE(o.victimPid, OOM.victimPid);
  writeU64(buf, OOM.victimCgroupId, o.victimCgroupId);
  writeU64(buf, OOM.totalVmPages, o.pages);
  writeU64(buf, OOM.rssPages, o.rssPages);
  buf.write(o.victimComm, OOM.victimComm, 'latin1');
  return buf;
}
