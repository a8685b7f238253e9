import type { PodtraceEvent } from '../../events/event';

/**
 * The record key, which picks the partition: all events of one pod (or container, or the host)
 * share a key, so they stay ordered in one partition.
 * - pod uid for pod events;
 * - container id for containers outside a pod;
 * - `host:<node>` for host processes;
 * - `unknown:<node>` when enrichment resolved nothing.
 */
export function kafkaRecordKey(e: PodtraceEvent, nodeName: string): string {
  const meta = e.meta;
  if (meta === null) return `unknown:${nodeName}`;
  if (meta.host) return `host:${nodeName}`;
  return meta.podUid ?? meta.containerId ?? `unknown:${nodeName}`;
}
