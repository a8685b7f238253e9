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
  if (nodeName !== keysOf) {
    keysOf = nodeName;
    unknownKey = `unknown:${nodeName}`;
    hostKey = `host:${nodeName}`;
  }
  if (meta === null) return unknownKey;
  if (meta.host) return hostKey;
  return meta.podUid ?? meta.containerId ?? unknownKey;
}

// The node's two fixed keys, made once (not a new string per record).
let keysOf = '';
let unknownKey = 'unknown:';
let hostKey = 'host:';
