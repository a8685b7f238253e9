import type { PodtraceEvent } from '../../events/event';
import type { Attributes } from '../../events/event-attributes';
import { EVENT_NAMES, EventKind } from '../../events/event-kind';
import type { LogRecordData } from './log-model';
import { SeverityNumber } from './log-model';
import type { SpanResource } from './span-model';

/** Prefix of every LogRecord `event_name`: podtrace's events are `podtrace.<event kind>`. */
export const LOG_EVENT_NAME_PREFIX = 'podtrace.';

/** `event_name` per event kind (`podtrace.process.exec`, `podtrace.tcp.connect`, …). */
export const LOG_EVENT_NAMES: Readonly<Record<EventKind, string>> = Object.fromEntries(
  Object.entries(EVENT_NAMES).map(([kind, name]) => [Number(kind), `${LOG_EVENT_NAME_PREFIX}${name}`]),
) as Record<EventKind, string>;

export const SEVERITY_TEXT: Readonly<Record<SeverityNumber, string>> = {
  [SeverityNumber.Info]: 'INFO',
  [SeverityNumber.Warn]: 'WARN',
};

/**
 * WARN for what went wrong — a failed connect, an OOM kill, a process killed by a signal or exiting
 * non-zero — INFO for everything else.
 */
export function eventSeverity(e: PodtraceEvent): SeverityNumber {
  switch (e.kind) {
    case EventKind.OomKill:
      return SeverityNumber.Warn;
    case EventKind.TcpConnect:
      return e.error !== null ? SeverityNumber.Warn : SeverityNumber.Info;
    case EventKind.ProcessExit:
      return e.signal !== null || (e.exitCode !== null && e.exitCode !== 0)
        ? SeverityNumber.Warn
        : SeverityNumber.Info;
    default:
      return SeverityNumber.Info;
  }
}

/** The log record of one event (`trace` = the process span's ids, or nulls without trace context). */
export function eventLogRecord(
  e: PodtraceEvent,
  resource: SpanResource,
  attributes: Readonly<Attributes>,
  observedTimeUnixNs: number,
  trace: { traceId: Uint8Array | null; spanId: Uint8Array | null },
): LogRecordData {
  const severityNumber = eventSeverity(e);
  return {
    resource,
    eventName: LOG_EVENT_NAMES[e.kind],
    timeUnixNs: e.timeUnixNs,
    observedTimeUnixNs,
    severityNumber,
    severityText: SEVERITY_TEXT[severityNumber],
    attributes,
    traceId: trace.traceId,
    spanId: trace.spanId,
  };
}
