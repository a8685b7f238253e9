import type { PodtraceEvent } from '../../events/event';
import { EVENT_NAMES } from '../../events/event-kind';
import type { EventKind } from '../../events/event-kind';
import { eventAttributes, eventDurationNs } from '../../events/event-attributes';
import { LOG_EVENT_NAMES } from '../spans/event-log-record';
import type { WorkloadMeta } from '../../events/workload-meta';

/**
 * Version of the `json` record layout (config/schemas/kafka-event.schema.json). Bumped when a key
 * changes meaning or type; adding keys does not bump it.
 */
export const KAFKA_JSON_SCHEMA_VERSION = 1;

/**
 * JSON text of a double rounded to an integer: the exact digits of the double (String() would print
 * the shortest round-trip form, e.g. ...456800 for ...456768), 0 for NaN/Infinity.
 */
export function jsonInteger(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const n = Math.round(value);
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/**
 * The head of every record: `event.name` (the event kind, `tcp.connect`) and `event_name` (the
 * OpenTelemetry event name of the same event, `podtrace.tcp.connect`, as the OTLP log record's
 * top-level EventName). `event.name` is the deprecated OpenTelemetry attribute and stays only as a
 * column existing data-lake tables and queries select on; new consumers should read `event_name`.
 */
const NAME_JSON: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(EVENT_NAMES).map(([kind, name]) => [
    Number(kind),
    `"event.name":${JSON.stringify(name)},"event_name":${JSON.stringify(LOG_EVENT_NAMES[Number(kind) as EventKind])}`,
  ]),
);

/**
 * Encodes events as flat JSON objects, one record value per event. The string is built directly:
 * a fixed head, the workload fragment (serialised once per WorkloadMeta and cached by object
 * identity, since enrichment shares one frozen meta per container) and the event's attributes.
 */
export class KafkaJsonEncoder {
  private readonly fragments = new WeakMap<WorkloadMeta, string>();
  private readonly noMetaFragment: string;

  constructor(
    private readonly nodeName: string,
    private readonly redact?: readonly string[],
  ) {
    this.noMetaFragment = `"k8s.node.name":${JSON.stringify(nodeName)}`;
  }

  encode(e: PodtraceEvent, seq: number): string {
    const attrs = JSON.stringify(eventAttributes(e, { redact: this.redact }));
    const name =
      NAME_JSON[e.kind] ?? `"event.name":"unknown.${e.kind}","event_name":"podtrace.unknown.${e.kind}"`;
    return (
      `{${name},"time_unix_nano":${jsonInteger(e.timeUnixNs)},"duration_ns":${jsonInteger(eventDurationNs(e))},` +
      `"event.seq":${seq},"podtrace.schema":${KAFKA_JSON_SCHEMA_VERSION},${this.fragment(e.meta)},${attrs.slice(1)}`
    );
  }

  /** The workload attributes as `"k":"v",...` (no braces), always with `k8s.node.name`. */
  private fragment(meta: WorkloadMeta | null): string {
    if (meta === null) return this.noMetaFragment;
    let text = this.fragments.get(meta);
    if (text === undefined) {
      const attrs: Record<string, string> = { ...meta.attributes };
      attrs['k8s.node.name'] ??= this.nodeName;
      text = JSON.stringify(attrs).slice(1, -1);
      this.fragments.set(meta, text);
    }
    return text;
  }
}
