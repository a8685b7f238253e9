import type { Attributes } from './event-attributes';
import type { DnsQueryEvent, FileEvent, ProcessSignalEvent, SchedRunqueueEvent } from './event';

/** The sender's workload attributes copied onto a signal, under `podtrace.signal.sender.<name>`. */
const SENDER_KEYS = ['k8s.namespace.name', 'k8s.pod.name', 'k8s.container.name', 'container.id'] as const;

/** process.signal: the attributes describe the target (like oom.kill's victim); the sender is prefixed. */
export function addSignalAttributes(out: Attributes, e: ProcessSignalEvent): void {
  out['process.pid'] = e.targetPid;
  out['process.executable.name'] = e.targetComm;
  out['podtrace.signal.number'] = e.signal;
  out['podtrace.signal.name'] = e.signalName;
  out['podtrace.signal.code'] = e.code;
  out['podtrace.signal.result'] = e.result;
  if (e.group) out['podtrace.signal.group'] = true;
  out['podtrace.signal.target.tid'] = e.targetTid;
  out['podtrace.signal.sender.pid'] = e.pid;
  out['podtrace.signal.sender.executable.name'] = e.comm;
  const m = e.senderMeta;
  if (m !== null && m.host) out['podtrace.signal.sender.host'] = true;
  else if (m !== null) {
    for (const k of SENDER_KEYS) {
      const v = m.attributes[k];
      if (v !== undefined) out[`podtrace.signal.sender.${k}`] = v;
    }
  }
}

export function addDnsAttributes(out: Attributes, e: DnsQueryEvent): void {
  out['network.transport'] = e.transport;
  out['network.type'] = e.family === 6 ? 'ipv6' : 'ipv4';
  out['network.local.address'] = e.clientAddr;
  out['network.local.port'] = e.clientPort;
  out['network.peer.address'] = e.serverAddr;
  out['network.peer.port'] = e.serverPort;
  out['server.address'] = e.serverAddr;
  out['server.port'] = e.serverPort;
  out['dns.question.name'] = e.questionName;
  out['podtrace.dns.query_type'] = e.queryType;
  out['podtrace.dns.id'] = e.id;
  if (e.rcode !== null) out['podtrace.dns.rcode'] = e.rcode;
  out['podtrace.dns.answer_count'] = e.answerCount;
  if (e.answers.length > 0) out['dns.answers'] = e.answers;
  if (e.truncated) out['podtrace.dns.truncated'] = true;
  if (e.answerTruncated) out['podtrace.dns.answer_truncated'] = true;
  if (e.error !== null) out['error.type'] = e.error;
}

export function addFileAttributes(out: Attributes, e: FileEvent): void {
  out['file.path'] = e.path;
  out['podtrace.file.operation'] = e.operation;
  if (e.fd >= 0) out['podtrace.file.fd'] = e.fd;
  out['podtrace.file.bytes'] = e.bytes;
  if (e.pathTruncated) out['podtrace.file.path_truncated'] = true;
  if (e.error !== null) out['error.type'] = e.error;
}

export function addSchedAttributes(out: Attributes, e: SchedRunqueueEvent): void {
  out['podtrace.sched.count'] = e.count;
  out['podtrace.sched.p50_ns'] = e.p50Ns;
  out['podtrace.sched.p99_ns'] = e.p99Ns;
  out['podtrace.sched.max_ns'] = e.maxNs;
  out['podtrace.sched.mean_ns'] = e.meanNs;
  out['podtrace.sched.interval_ns'] = e.intervalNs;
}
