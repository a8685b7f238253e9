import type { PodtraceEvent } from './event';
import { EventKind } from './event-kind';
import { DEFAULT_REDACT_PATTERNS, redactArgs } from './redact';
import {
  addDnsAttributes,
  addFileAttributes,
  addSchedAttributes,
  addSignalAttributes,
} from './breadth-attributes';

export type AttributeValue = string | number | boolean | readonly string[];
export type Attributes = Record<string, AttributeValue>;

export interface AttributeOptions {
  /** Patterns for `process.command_args` redaction (see redact.ts). */
  redact?: readonly string[];
}

/** How long the event's activity lasted (handshake, connection, process lifetime), ns; 0 for instants. */
export function eventDurationNs(e: PodtraceEvent): number {
  switch (e.kind) {
    case EventKind.TcpConnect:
    case EventKind.TcpAccept:
      return e.latencyNs;
    case EventKind.TcpClose:
      return e.durationNs;
    case EventKind.ProcessExit:
      return e.lifetimeNs;
    case EventKind.DnsQuery:
      return e.latencyNs;
    case EventKind.FileRead:
    case EventKind.FileWrite:
    case EventKind.FileFsync:
    case EventKind.FileOpen:
      return e.durationNs;
    case EventKind.SchedRunqueue:
      return e.intervalNs;
    default:
      return 0;
  }
}

function addTcp(
  out: Attributes,
  e: Extract<PodtraceEvent, { localAddr: string }>,
  role: 'server' | 'client' | null,
): void {
  out['network.transport'] = 'tcp';
  out['network.type'] = e.family === 6 ? 'ipv6' : 'ipv4';
  out['network.local.address'] = e.localAddr;
  out['network.local.port'] = e.localPort;
  out['network.peer.address'] = e.remoteAddr;
  out['network.peer.port'] = e.remotePort;
  // The thread that owns the socket, where it is not the process itself (semconv thread.*).
  if (e.threadName !== '' && e.threadName !== e.comm) out['thread.name'] = e.threadName;
  if (e.observedSinceStart) out['podtrace.tcp.observed_since_start'] = true;
  if (role === 'server') {
    out['server.address'] = e.remoteAddr;
    out['server.port'] = e.remotePort;
  } else if (role === 'client') {
    out['client.address'] = e.remoteAddr;
    out['client.port'] = e.remotePort;
  }
}

/**
 * The event's own attributes under OpenTelemetry semantic-convention names (plus a few
 * `podtrace.*` ones where no convention exists). Every sink uses these names: span attributes,
 * Kafka JSON keys and the console's JSON lines. Workload attributes come from `event.meta`.
 */
export function eventAttributes(e: PodtraceEvent, options: AttributeOptions = {}): Attributes {
  const out: Attributes = {
    'process.pid': e.pid,
    'process.executable.name': e.comm,
    'podtrace.enrichment': e.enrichment,
  };
  if (e.tid !== 0 && e.tid !== e.pid) out['thread.id'] = e.tid;
  switch (e.kind) {
    case EventKind.ProcessExec:
      out['process.parent_pid'] = e.ppid;
      out['process.executable.path'] = e.filename;
      out['process.command_args'] = redactArgs(e.args, options.redact ?? DEFAULT_REDACT_PATTERNS);
      out['process.user.id'] = e.uid;
      if (e.argsTruncated) out['podtrace.process.args_truncated'] = true;
      break;
    case EventKind.ProcessExit:
      if (e.exitCode !== null) out['process.exit.code'] = e.exitCode;
      if (e.signal !== null) out['podtrace.process.signal'] = e.signal;
      break;
    case EventKind.ProcessFork:
      out['podtrace.process.child_pid'] = e.childPid;
      break;
    case EventKind.TcpConnect:
      addTcp(out, e, 'server');
      if (e.error !== null) out['error.type'] = e.error;
      break;
    case EventKind.TcpAccept:
      addTcp(out, e, 'client');
      break;
    case EventKind.TcpClose:
      addTcp(out, e, null);
      out['podtrace.tcp.bytes_sent'] = e.bytesSent;
      out['podtrace.tcp.bytes_received'] = e.bytesReceived;
      out['podtrace.tcp.old_state'] = e.oldState;
      break;
    case EventKind.TcpRetransmit:
      addTcp(out, e, null);
      out['podtrace.tcp.state'] = e.state;
      break;
    case EventKind.OomKill:
      out['process.pid'] = e.victimPid;
      out['process.executable.name'] = e.victimComm;
      out['podtrace.oom.pages'] = e.pages;
      out['podtrace.oom.rss_pages'] = e.rssPages;
      out['podtrace.oom.trigger_pid'] = e.triggerPid;
      break;
    case EventKind.ProcessSignal:
      addSignalAttributes(out, e);
      break;
    case EventKind.DnsQuery:
      addDnsAttributes(out, e);
      break;
    case EventKind.FileRead:
    case EventKind.FileWrite:
    case EventKind.FileFsync:
    case EventKind.FileOpen:
      addFileAttributes(out, e);
      break;
    case EventKind.SchedRunqueue:
      addSchedAttributes(out, e);
      break;
  }
  return out;
}
