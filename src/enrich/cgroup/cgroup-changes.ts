import type { CgroupChange, PodtraceEvent } from '../../events/event';
import { EventKind } from '../../events/event-kind';

/**
 * The cgroup an event is attributed to, and a pid inside it: the victim's for an OOM kill and the
 * target's for a signal (when the kernel gave one), the event's own otherwise.
 */
export function attributedCgroup(e: PodtraceEvent): { id: number; pid: number } {
  if (e.kind === EventKind.OomKill && e.victimCgroupId !== 0)
    return { id: e.victimCgroupId, pid: e.victimPid };
  if (e.kind === EventKind.ProcessSignal && e.targetCgroupId !== 0)
    return { id: e.targetCgroupId, pid: e.targetPid };
  return { id: e.cgroupId, pid: e.pid };
}

/**
 * The mkdirs of a batch worth learning: a cgroup created and removed within the same batch is
 * learned only when one of the batch's events belongs to it, so churn of short-lived, silent
 * cgroups never displaces live entries. Truncated paths are never learned.
 */
export function cgroupsToLearn(
  changes: readonly CgroupChange[],
  events: readonly PodtraceEvent[],
): CgroupChange[] {
  let removed: Set<number> | null = null;
  for (const c of changes) if (c.op === 'rmdir') (removed ??= new Set()).add(c.id);
  let used: Set<number> | null = null;
  if (removed !== null) {
    used = new Set();
    for (const ev of events) {
      used.add(ev.cgroupId);
      used.add(attributedCgroup(ev).id);
    }
  }
  const out: CgroupChange[] = [];
  for (const c of changes) {
    if (c.op !== 'mkdir' || c.truncated) continue;
    if (removed !== null && removed.has(c.id) && used?.has(c.id) !== true) continue;
    out.push(c);
  }
  return out;
}
