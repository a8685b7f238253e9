import type { PodtraceEvent } from '../../events/event';

/**
 * The record key, which picks the partition: all events of one pod (or container, or the host)
 * share a key, so they stay ordered in one partition.
 * - pod uid for pod events;
 * - container id for containers outside a pod;
 * - `host:<node>` for host processes;
 * - `unknown:<node>` when enrichment resolved nothing.
 * The node's two keys are made once here, not a string per record.
 */
export function kafkaRecordKeys(nodeName: string): (e: PodtraceEvent) => string {
  const unknownKey = `unknown:${nodeName}`;
  const hostKey = `host:${nodeName}`;
  return (e) => {
    const meta = e.meta;
    if (meta === null) return unknownKey;
    if (meta.host) return hostKey;
    return meta.podUid ?? meta.containerId ?? unknownKey;
  };
}
