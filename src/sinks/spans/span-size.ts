import type { Attributes } from '../../events/event-attributes';
import type { LogRecordData } from './log-model';
import type { SpanData } from './span-model';

/** Ids, times, kind, status and the protobuf framing of a span without its strings. */
const SPAN_FIXED_BYTES = 64;
/** Framing of one attribute (KeyValue + AnyValue tags and lengths). */
const ATTRIBUTE_FIXED_BYTES = 6;

export function attributesBytes(attributes: Readonly<Attributes> | null): number {
  if (attributes === null) return 0;
  let n = 0;
  for (const key in attributes) {
    const v = attributes[key]!;
    n += ATTRIBUTE_FIXED_BYTES + key.length;
    if (typeof v === 'string') n += v.length;
    else if (typeof v === 'object') for (const s of v) n += s.length + 2;
    else n += 9;
  }
  return n;
}

/**
 * An estimate of a span's encoded size (within a few percent for ASCII data; resources are shared
 * and not counted). Sizes the OTLP queue's byte bound; the batch byte cap checks the real encoding.
 */
export function estimateSpanBytes(span: SpanData): number {
  let n = SPAN_FIXED_BYTES + span.name.length + attributesBytes(span.attributes);
  if (span.statusMessage !== null) n += span.statusMessage.length;
  if (span.events !== null)
    for (const e of span.events) n += 16 + e.name.length + attributesBytes(e.attributes);
  if (span.links !== null) for (const l of span.links) n += 32 + attributesBytes(l.attributes);
  return n;
}

/** Times, severity, ids, flags and framing of a log record without its strings. */
const LOG_RECORD_FIXED_BYTES = 72;

/** The same estimate for a log record (the OTLP logs queue's byte bound). */
export function estimateLogRecordBytes(record: LogRecordData): number {
  return (
    LOG_RECORD_FIXED_BYTES +
    record.eventName.length +
    record.severityText.length +
    attributesBytes(record.attributes)
  );
}
