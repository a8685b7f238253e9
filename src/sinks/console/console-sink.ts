import type { Writable } from 'node:stream';
import type { Logger } from '../../core/logger';
import type { EventBatch, PodtraceEvent } from '../../events/event';
import { eventAttributes, eventDurationNs } from '../../events/event-attributes';
import { EventKind, eventName } from '../../events/event-kind';
import type { Sink } from '../../pipeline/stages';
import type { Metrics } from '../../telemetry/metrics';
import type { ConsoleSinkConfig } from './console-config';

/** Lines held while the output stream pushes back; past this they are dropped and counted. */
export const CONSOLE_MAX_BUFFERED_LINES = 100_000;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function clock(unixNs: number): string {
  const d = new Date(unixNs / 1e6);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function duration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)}s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)}ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)}µs`;
  return `${ns}ns`;
}

/** `namespace/pod/container`, `host`, or `?` when enrichment found nothing. */
export function workloadColumn(e: PodtraceEvent): string {
  const m = e.meta;
  if (m === null) return e.enrichment === 'none' ? '?' : 'host';
  if (m.host) return 'host';
  return `${m.namespace ?? '?'}/${m.podName ?? '?'}/${m.containerName ?? '?'}`;
}

function addr(a: string, port: number, v6: boolean): string {
  return v6 ? `[${a}]:${port}` : `${a}:${port}`;
}

/** One human line per event (the format the README shows). */
export function formatText(e: PodtraceEvent): string {
  const head = `${clock(e.timeUnixNs)} ${eventName(e.kind).padEnd(14)} ${workloadColumn(e)}  pid=${e.pid}`;
  switch (e.kind) {
    case EventKind.ProcessExec:
      return `${head} ppid=${e.ppid} comm=${e.comm}  ${e.args.length > 0 ? e.args.join(' ') : e.filename}${e.argsTruncated ? ' …' : ''}`;
    case EventKind.ProcessExit:
      return `${head} comm=${e.comm}  ${e.signal !== null ? `signal=${e.signal}` : `exit=${e.exitCode ?? 0}`} lifetime=${duration(e.lifetimeNs)}`;
    case EventKind.ProcessFork:
      return `${head} comm=${e.comm}  child=${e.childPid}`;
    case EventKind.TcpConnect: {
      const v6 = e.family === 6;
      return e.error !== null
        ? `${head} comm=${e.comm}  → ${addr(e.remoteAddr, e.remotePort, v6)} ${e.error}`
        : `${head} comm=${e.comm}  ${addr(e.localAddr, e.localPort, v6)} → ${addr(e.remoteAddr, e.remotePort, v6)} ${duration(e.latencyNs)}`;
    }
    case EventKind.TcpAccept:
      return `${head} comm=${e.comm}  ${addr(e.localAddr, e.localPort, e.family === 6)} ← ${addr(e.remoteAddr, e.remotePort, e.family === 6)}`;
    case EventKind.TcpClose:
      return `${head} comm=${e.comm}  ${addr(e.localAddr, e.localPort, e.family === 6)} ↔ ${addr(e.remoteAddr, e.remotePort, e.family === 6)} ${duration(e.durationNs)} sent=${e.bytesSent} recv=${e.bytesReceived}`;
    case EventKind.TcpRetransmit:
      return `${head} comm=${e.comm}  ${addr(e.localAddr, e.localPort, e.family === 6)} → ${addr(e.remoteAddr, e.remotePort, e.family === 6)} state=${e.state}`;
    case EventKind.OomKill:
      return `${head} victim=${e.victimPid} comm=${e.victimComm} pages=${e.pages}`;
    case EventKind.ProcessSignal:
      return `${head} comm=${e.comm}  ${e.signalName} → pid=${e.targetPid} comm=${e.targetComm} ${e.code} ${e.result}`;
    case EventKind.DnsQuery:
      return `${head} comm=${e.comm}  ${e.queryType} ${e.questionName} → ${addr(e.serverAddr, e.serverPort, e.family === 6)} ${e.error ?? `${e.answerCount} answers${e.answers.length > 0 ? ` ${e.answers.join(',')}` : ''}`} ${duration(e.latencyNs)}`;
    case EventKind.FileRead:
    case EventKind.FileWrite:
    case EventKind.FileFsync:
    case EventKind.FileOpen:
      return `${head} comm=${e.comm}  ${e.operation} ${e.path}${e.bytes > 0 ? ` ${e.bytes}B` : ''} ${e.error ?? duration(e.durationNs)}`;
    case EventKind.SchedRunqueue:
      return `${head} runqueue n=${e.count} p50=${duration(e.p50Ns)} p99=${duration(e.p99Ns)} max=${duration(e.maxNs)}`;
  }
}

/** The console adds no redaction of its own: argv was redacted once, at decode, by `redact:`. */
const AS_DECODED = { redact: [] as readonly string[] };

/** One JSON object per event: `event.name`, times, then the attribute names every sink uses. */
export function formatJson(e: PodtraceEvent): string {
  return JSON.stringify({
    'event.name': eventName(e.kind),
    time_unix_nano: Math.round(e.timeUnixNs),
    duration_ns: eventDurationNs(e),
    ...eventAttributes(e, AS_DECODED),
    ...(e.meta?.attributes ?? {}),
  });
}

/** Prints events to a stream (stdout by default), one line each. */
export class ConsoleSink implements Sink {
  readonly name = 'console';
  private readonly format: (e: PodtraceEvent) => string;
  private blocked = false;
  private held: { text: string; n: number }[] = [];
  private heldLines = 0;
  private drained: (() => void) | undefined;
  private closed = false;
  private written = 0;

  constructor(
    config: ConsoleSinkConfig,
    private readonly deps: { logger: Logger; metrics: Metrics; out?: Writable },
  ) {
    this.format = config.format === 'json' ? formatJson : formatText;
  }

  private get out(): Writable {
    return this.deps.out ?? process.stdout;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  get exported(): number {
    return this.written;
  }

  consume(batch: EventBatch): void {
    const n = batch.events.length;
    if (this.closed) {
      this.deps.metrics.drop('console', 'shutdown', n);
      return;
    }
    let text = '';
    for (const e of batch.events) text += `${this.format(e)}\n`;
    if (this.blocked) {
      // The output pushes back: hold up to CONSOLE_MAX_BUFFERED_LINES, drop (counted) beyond.
      if (this.heldLines + n > CONSOLE_MAX_BUFFERED_LINES) {
        this.deps.metrics.drop('console', 'output_blocked', n);
        return;
      }
      this.held.push({ text, n });
      this.heldLines += n;
      return;
    }
    this.write(text, n);
  }

  private write(text: string, n: number): void {
    this.written += n;
    this.deps.metrics.sinkExported.inc({ sink: 'console' }, n);
    if (!this.out.write(text)) {
      this.blocked = true;
      this.out.once('drain', () => this.resume());
    }
  }

  /** After a drain: writes held chunks until the stream pushes back again (one listener at a time). */
  private resume(): void {
    this.blocked = false;
    while (!this.blocked && this.held.length > 0) {
      const chunk = this.held.shift() as { text: string; n: number };
      this.heldLines -= chunk.n;
      this.write(chunk.text, chunk.n);
    }
    if (!this.blocked) this.drained?.();
  }

  /** Stops intake and waits until everything held has been handed to the stream. */
  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.blocked) await new Promise<void>((resolve) => (this.drained = resolve));
  }
}
