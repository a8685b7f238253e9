import { EVENT_GROUPS, MAX_EVENT_KIND } from '../../events/event-kind';
import type { EventKind } from '../../events/event-kind';

/** The group name of the loss-record topic (`<topicPrefix>loss`). */
export const LOSS_TOPIC_GROUP = 'loss';

/** The topic of a group: the per-group override, else `<prefix><group>`. */
export function topicForGroup(
  group: string,
  prefix: string,
  overrides: Readonly<Record<string, string>>,
): string {
  return overrides[group] ?? `${prefix}${group}`;
}

/** Topic per event kind, indexed by kind number (unknown kinds go to `<prefix>unknown`). */
export function topicsByKind(prefix: string, overrides: Readonly<Record<string, string>>): readonly string[] {
  const out: string[] = [];
  for (let kind = 0; kind <= MAX_EVENT_KIND; kind++) {
    const group = EVENT_GROUPS[kind as EventKind] ?? 'unknown';
    out.push(topicForGroup(group, prefix, overrides));
  }
  return out;
}
