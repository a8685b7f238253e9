import type { Attributes } from '../../events/event-attributes';
import { eventAttributes, eventDurationNs } from '../../events/event-attributes';
import type {
  EventBatch,
  PodtraceEvent,
  ProcessExecEvent,
  ProcessExitEvent,
  ProcessForkEvent,
} from '../../events/event';
import { EVENT_NAMES, EventKind } from '../../events/event-kind';
import { DEFAULT_REDACT_PATTERNS } from '../../events/redact';
import { eventLogRecord } from './event-log-record';
import type { LogRecordData } from './log-model';
import { signalName } from './signal-name';
import { SpanIdGenerator } from './span-ids';
import type { SpanData, SpanEvent, SpanLink, SpanResource } from './span-model';
import { SpanKind, StatusCode } from './span-model';
import type { SpanResources } from './span-resources';

export { signalName } from './signal-name';

/** The span name of a process's lifetime (exec → exit). */
export const PROCESS_SPAN_NAME = 'process';
/** Every span name the mapper produces: the process span and the non-process event kinds. */
export const SPAN_NAMES: readonly string[] = [
  PROCESS_SPAN_NAME,
  EVENT_NAMES[EventKind.TcpConnect],
  EVENT_NAMES[EventKind.TcpAccept],
  EVENT_NAMES[EventKind.TcpClose],
  EVENT_NAMES[EventKind.TcpRetransmit],
  EVENT_NAMES[EventKind.OomKill],
  EVENT_NAMES[EventKind.ProcessSignal],
  EVENT_NAMES[EventKind.DnsQuery],
  EVENT_NAMES[EventKind.FileRead],
  EVENT_NAMES[EventKind.FileWrite],
  EVENT_NAMES[EventKind.FileFsync],
  EVENT_NAMES[EventKind.FileOpen],
  EVENT_NAMES[EventKind.SchedRunqueue],
];

export const DEFAULT_MAX_TRACE_SECONDS = 60;
export const DEFAULT_MAX_TRACKED_PROCESSES = 32768;
/** Exec span events kept per process span (a process that execs in a loop keeps the first ones). */
export const MAX_EXEC_EVENTS_PER_PROCESS = 8;
/**
 * Exited processes whose ids are remembered: a socket closes after its process's exit event
 * (do_exit reports the exit before it closes the files), and a child may exec after its parent
 * exited; both must name the trace the process span was really put in.
 */
export const MAX_EXITED_PROCESSES = 4096;

export interface SpanMapperOptions {
  /** `/proc/sys/kernel/random/boot_id`: scopes the deterministic ids to this boot. */
  bootId: string;
  resources: SpanResources;
  /** A process tree's trace stops growing after this long; later events root traces of their own. */
  maxTraceSeconds?: number;
  /** `process.command_args` redaction patterns. */
  redact?: readonly string[];
  /** Processes remembered between exec and exit; the oldest is forgotten past this (counted). */
  maxTrackedProcesses?: number;
  /**
   * Log records carry the trace and span id of their process's span (true when spans are exported
   * too, so a logs backend can jump to the trace; false leaves them without trace context).
   */
  logTraceContext?: boolean;
  /** Wall clock in Unix ns, the log records' observed time (default Date.now() × 1e6). */
  nowUnixNs?: () => number;
}

/** Where the mapping pass writes: spans, log records, or both (null: that signal is not wanted). */
export interface MapTargets {
  spans: SpanData[] | null;
  logs: LogRecordData[] | null;
  /**
   * Optional, at least as long as the batch: after event i, `spanEnds[i]` = spans.length and
   * `logEnds[i]` = logs.length, so a consumer can cut the output by runs of events.
   */
  spanEnds?: Uint32Array;
  logEnds?: Uint32Array;
}

/** What the mapper remembers about a live process it saw start (fork or exec). */
interface ProcessState {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;
  readonly parentSpanId: Uint8Array | null;
  /** Boot ns at which the trace this process belongs to started. */
  readonly traceStartBootNs: number;
  /** Link to the parent's process span when this process roots its own trace. */
  readonly link: SpanLink | null;
  /** Attributes of the latest exec, or null if the process never exec'd. */
  execAttributes: Attributes | null;
  execEvents: SpanEvent[] | null;
  resource: SpanResource | null;
  /** The comm of the latest exec (the executable's name), null if the process never exec'd. */
  executable: string | null;
}

const processKey = (pid: number, startNs: number): string => `${pid}:${startNs}`;

/**
 * Turns event batches into spans (see docs/otlp.md for the model):
 * - a process is one `process` span from its start to its exit, emitted at exit; exec and fork
 *   events are folded into it (execs also appear as `process.exec` span events);
 * - a process whose parent podtrace saw start is a child span of the parent's process span, in the
 *   parent's trace, until the trace is `maxTraceSeconds` old; after that, or when the parent is
 *   unknown (started before podtrace), the process roots a trace of its own with a link to the
 *   parent's process span;
 * - every other event is a span (name = event kind) under its process's span (also just after the
 *   process exited: sockets close after the exit event), or a root span linking to its process
 *   span when the process is unknown or its trace is too old;
 * - host and unattributed processes are one resource per executable (the comm of their exec).
 * Stateful (the process table), so one mapper per sink, fed in kernel order.
 */
export class SpanMapper {
  private readonly ids: SpanIdGenerator;
  private readonly resources: SpanResources;
  private readonly maxTraceNs: number;
  private readonly redact: readonly string[];
  private readonly maxTracked: number;
  private readonly processes = new Map<string, ProcessState>();
  private readonly exited = new Map<string, ProcessState>();
  private readonly logTraceContext: boolean;
  private readonly nowUnixNs: () => number;
  private evictedCount = 0;
  /** Set per mapBatch() call. */
  private logs: LogRecordData[] | null = null;
  private observedUnixNs = 0;

  constructor(options: SpanMapperOptions) {
    this.ids = new SpanIdGenerator(options.bootId);
    this.resources = options.resources;
    this.maxTraceNs = (options.maxTraceSeconds ?? DEFAULT_MAX_TRACE_SECONDS) * 1e9;
    this.redact = options.redact ?? DEFAULT_REDACT_PATTERNS;
    this.maxTracked = options.maxTrackedProcesses ?? DEFAULT_MAX_TRACKED_PROCESSES;
    this.logTraceContext = options.logTraceContext ?? true;
    this.nowUnixNs = options.nowUnixNs ?? ((): number => Date.now() * 1e6);
  }

  /** Processes forgotten before their exit because the table was full. */
  get evictions(): number {
    return this.evictedCount;
  }

  get trackedProcesses(): number {
    return this.processes.size;
  }

  /** Maps a batch; spans are appended to `out` (returned). Fork and exec produce no span of their own. */
  mapBatch(batch: EventBatch, out: SpanData[] = []): SpanData[] {
    this.map(batch, { spans: out, logs: null });
    return out;
  }

  /**
   * One pass over the batch for both signals: spans (as mapBatch) into `targets.spans`, and one log
   * record per event into `targets.logs` (forks and execs included), sharing resources and
   * attribute objects. The process table is updated either way, so span links stay right when only
   * logs are wanted.
   */
  map(batch: EventBatch, targets: MapTargets): void {
    const spans = targets.spans;
    this.logs = targets.logs;
    if (this.logs !== null) this.observedUnixNs = this.nowUnixNs();
    const events = batch.events;
    const spanEnds = targets.spanEnds;
    const logEnds = targets.logEnds;
    try {
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        switch (e.kind) {
          case EventKind.ProcessFork:
            this.onFork(e);
            break;
          case EventKind.ProcessExec:
            this.onExec(e);
            break;
          case EventKind.ProcessExit: {
            const span = this.onExit(e);
            if (spans !== null) spans.push(span);
            break;
          }
          default: {
            const span = this.eventSpan(e);
            if (spans !== null) spans.push(span);
          }
        }
        if (spanEnds !== undefined) spanEnds[i] = spans?.length ?? 0;
        if (logEnds !== undefined) logEnds[i] = this.logs?.length ?? 0;
      }
    } finally {
      this.logs = null;
    }
  }

  /** Appends the event's log record when logs are wanted; `state` is its process, when known. */
  private log(
    e: PodtraceEvent,
    resource: SpanResource,
    attributes: Readonly<Attributes>,
    state: ProcessState | undefined,
  ): void {
    if (this.logs === null) return;
    const linked = this.logTraceContext && e.pid > 0;
    this.logs.push(
      eventLogRecord(e, resource, attributes, this.observedUnixNs, {
        traceId: linked ? (state?.traceId ?? this.ids.processTraceId(e.pid, e.procStartNs)) : null,
        spanId: linked ? (state?.spanId ?? this.ids.processSpanId(e.pid, e.procStartNs)) : null,
      }),
    );
  }

  private remember(key: string, state: ProcessState): void {
    if (this.processes.size >= this.maxTracked) {
      const oldest = this.processes.keys().next();
      if (oldest.done !== true) {
        this.processes.delete(oldest.value);
        this.evictedCount++;
      }
    }
    this.processes.set(key, state);
  }

  /** A live process, or one that exited recently (its span is out, its ids still count). */
  private known(key: string): ProcessState | undefined {
    return this.processes.get(key) ?? this.exited.get(key);
  }

  private rememberExited(key: string, state: ProcessState): void {
    if (this.exited.size >= MAX_EXITED_PROCESSES) {
      const oldest = this.exited.keys().next();
      if (oldest.done !== true) this.exited.delete(oldest.value);
    }
    // Only the ids and the resource: the exec attributes left with the span.
    this.exited.set(key, { ...state, link: null, execAttributes: null, execEvents: null });
  }

  /**
   * A host (or unattributed) process is one service per executable: the one it exec'd, not the
   * name of the thread that made the call. Container resources follow the current meta.
   */
  private resourceOf(e: PodtraceEvent, state: ProcessState | undefined): SpanResource {
    return (e.meta === null || e.meta.host) && state?.executable != null
      ? this.resources.forExecutable(e.meta, state.executable)
      : this.resources.forEvent(e);
  }

  /** Where a process that started at `startNs` goes: into its parent's trace, or a trace of its own. */
  private place(pid: number, startNs: number, ppid: number, parentStartNs: number): ProcessState {
    const parent = ppid > 0 ? this.known(processKey(ppid, parentStartNs)) : undefined;
    const spanId = this.ids.processSpanId(pid, startNs);
    if (parent !== undefined && startNs - parent.traceStartBootNs <= this.maxTraceNs) {
      return {
        traceId: parent.traceId,
        spanId,
        parentSpanId: parent.spanId,
        traceStartBootNs: parent.traceStartBootNs,
        link: null,
        execAttributes: null,
        execEvents: null,
        resource: null,
        executable: null,
      };
    }
    let link: SpanLink | null = null;
    if (parent !== undefined) link = { traceId: parent.traceId, spanId: parent.spanId, attributes: null };
    else if (ppid > 0) {
      link = {
        traceId: this.ids.processTraceId(ppid, parentStartNs),
        spanId: this.ids.processSpanId(ppid, parentStartNs),
        attributes: null,
      };
    }
    return {
      traceId: this.ids.processTraceId(pid, startNs),
      spanId,
      parentSpanId: null,
      traceStartBootNs: startNs,
      link,
      execAttributes: null,
      execEvents: null,
      resource: null,
      executable: null,
    };
  }

  private onFork(e: ProcessForkEvent): void {
    const key = processKey(e.childPid, e.childStartNs);
    const parent = this.known(processKey(e.pid, e.procStartNs));
    if (!this.processes.has(key)) {
      const state = this.place(e.childPid, e.childStartNs, e.pid, e.procStartNs);
      // A child that does not exec runs the parent's executable.
      state.executable = parent?.executable ?? null;
      this.remember(key, state);
    }
    if (this.logs !== null)
      this.log(e, this.resourceOf(e, parent), eventAttributes(e, { redact: this.redact }), parent);
  }

  private onExec(e: ProcessExecEvent): void {
    const key = processKey(e.pid, e.procStartNs);
    let state = this.processes.get(key);
    if (state === undefined) {
      state = this.place(e.pid, e.procStartNs, e.ppid, e.parentStartNs);
      this.remember(key, state);
    }
    state.execAttributes = eventAttributes(e, { redact: this.redact });
    state.resource = this.resources.forEvent(e);
    state.executable = e.comm;
    this.log(e, state.resource, state.execAttributes, state);
    state.execEvents ??= [];
    if (state.execEvents.length < MAX_EXEC_EVENTS_PER_PROCESS) {
      state.execEvents.push({
        name: EVENT_NAMES[EventKind.ProcessExec],
        timeUnixNs: e.timeUnixNs,
        attributes: { 'process.executable.path': e.filename },
      });
    }
  }

  private onExit(e: ProcessExitEvent): SpanData {
    const key = processKey(e.pid, e.procStartNs);
    const state = this.processes.get(key);
    if (state !== undefined) {
      this.processes.delete(key);
      this.rememberExited(key, state);
    }
    const exitAttributes = eventAttributes(e, { redact: this.redact });
    let statusCode = StatusCode.Unset;
    let statusMessage: string | null = null;
    if (e.signal !== null) {
      statusCode = StatusCode.Error;
      exitAttributes['error.type'] = signalName(e.signal);
      statusMessage = `killed by ${signalName(e.signal)}`;
    } else if (e.exitCode !== null && e.exitCode !== 0) {
      statusCode = StatusCode.Error;
      exitAttributes['error.type'] = String(e.exitCode);
      statusMessage = `exit code ${e.exitCode}`;
    }
    const attributes: Attributes =
      state?.execAttributes != null
        ? Object.assign({}, state.execAttributes, exitAttributes)
        : exitAttributes;
    const resource = state?.resource ?? this.resources.forEvent(e);
    this.log(e, resource, exitAttributes, state);
    return {
      resource,
      traceId: state?.traceId ?? this.ids.processTraceId(e.pid, e.procStartNs),
      spanId: state?.spanId ?? this.ids.processSpanId(e.pid, e.procStartNs),
      parentSpanId: state?.parentSpanId ?? null,
      name: PROCESS_SPAN_NAME,
      kind: SpanKind.Internal,
      endTimeUnixNs: e.timeUnixNs,
      durationNs: Math.max(0, e.bootNs - e.procStartNs),
      attributes,
      events: state?.execEvents ?? null,
      links: state?.link != null ? [state.link] : null,
      statusCode,
      statusMessage,
    };
  }

  private eventSpan(
    e: Exclude<PodtraceEvent, ProcessExecEvent | ProcessExitEvent | ProcessForkEvent>,
  ): SpanData {
    const attributes = eventAttributes(e, { redact: this.redact });
    let kind = SpanKind.Internal;
    let statusCode = StatusCode.Unset;
    let statusMessage: string | null = null;
    if (e.kind === EventKind.TcpConnect) {
      kind = SpanKind.Client;
      if (e.error !== null) {
        statusCode = StatusCode.Error;
        statusMessage = e.error;
      }
    } else if (e.kind === EventKind.TcpAccept) {
      kind = SpanKind.Server;
    } else if (e.kind === EventKind.OomKill) {
      statusCode = StatusCode.Error;
      attributes['error.type'] = 'oom_kill';
      statusMessage = `out of memory: killed ${e.victimComm} (${e.victimPid})`;
    } else if (e.kind === EventKind.DnsQuery) {
      kind = SpanKind.Client;
      if (e.error !== null) {
        statusCode = StatusCode.Error;
        statusMessage = e.error;
      }
    } else if (
      (e.kind === EventKind.FileRead ||
        e.kind === EventKind.FileWrite ||
        e.kind === EventKind.FileFsync ||
        e.kind === EventKind.FileOpen) &&
      e.error !== null
    ) {
      statusCode = StatusCode.Error;
      statusMessage = e.error;
    }
    const state = e.pid > 0 ? this.known(processKey(e.pid, e.procStartNs)) : undefined;
    let traceId: Uint8Array;
    let parentSpanId: Uint8Array | null = null;
    let links: SpanLink[] | null = null;
    if (state !== undefined && e.bootNs - state.traceStartBootNs <= this.maxTraceNs) {
      traceId = state.traceId;
      parentSpanId = state.spanId;
    } else {
      traceId = this.ids.eventTraceId(e.kind, e.pid, e.tid, e.bootNs);
      if (e.pid > 0) {
        links = [
          {
            traceId: state?.traceId ?? this.ids.processTraceId(e.pid, e.procStartNs),
            spanId: state?.spanId ?? this.ids.processSpanId(e.pid, e.procStartNs),
            attributes: null,
          },
        ];
      }
    }
    const duration = eventDurationNs(e);
    const resource = this.resourceOf(e, state);
    this.log(e, resource, attributes, state);
    return {
      resource,
      traceId,
      spanId: this.ids.eventSpanId(e.kind, e.pid, e.tid, e.bootNs),
      parentSpanId,
      name: EVENT_NAMES[e.kind],
      kind,
      endTimeUnixNs: e.timeUnixNs,
      durationNs: duration > 0 ? duration : 0,
      attributes,
      events: null,
      links,
      statusCode,
      statusMessage,
    };
  }
}
