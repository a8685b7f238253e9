import type { EventBatch } from '../../events/event';
import { PODTRACE_SCOPE } from './instrumentation-scope';
import type { LogRecordData, ResourceLogs } from './log-model';
import type { SpanMapper } from './span-mapper';
import type { InstrumentationScope, ResourceSpans, SpanData, SpanResource } from './span-model';

/** Items grouped under their resource (first-seen order), one group per ResourceSpans / ResourceLogs. */
export function groupItemsByResource<T extends { readonly resource: SpanResource }>(
  items: readonly T[],
  scope: InstrumentationScope = PODTRACE_SCOPE,
): { resource: SpanResource; scope: InstrumentationScope; items: T[] }[] {
  const groups = new Map<SpanResource, T[]>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const list = groups.get(item.resource);
    if (list === undefined) groups.set(item.resource, [item]);
    else list.push(item);
  }
  const out: { resource: SpanResource; scope: InstrumentationScope; items: T[] }[] = [];
  for (const [resource, list] of groups) out.push({ resource, scope, items: list });
  return out;
}

/** Groups spans by resource (first-seen order), the shape of an ExportTraceServiceRequest. */
export function groupByResource(
  spans: readonly SpanData[],
  scope: InstrumentationScope = PODTRACE_SCOPE,
): ResourceSpans[] {
  return groupItemsByResource(spans, scope).map((g) => ({ resource: g.resource, scope, spans: g.items }));
}

/** Maps an event batch to spans grouped by resource (the mapper keeps process state across calls). */
export function eventsToResourceSpans(batch: EventBatch, mapper: SpanMapper): ResourceSpans[] {
  return groupByResource(mapper.mapBatch(batch));
}

/** Groups log records by resource (first-seen order), the shape of an ExportLogsServiceRequest. */
export function groupLogsByResource(
  records: readonly LogRecordData[],
  scope: InstrumentationScope = PODTRACE_SCOPE,
): ResourceLogs[] {
  return groupItemsByResource(records, scope).map((g) => ({ resource: g.resource, scope, records: g.items }));
}
