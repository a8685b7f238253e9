import type { Message, PartitionMetadata, PartitionerArgs } from 'kafkajs';

export interface GroupingArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: Message[];
  partitioner: (args: PartitionerArgs) => number;
}

/**
 * The messages of one `sendBatch` topic by partition, in their order: what kafkajs 2.2's
 * `groupMessagesPerPartition` returns (an object keyed by partition number, `{}` without partition
 * metadata, the partitioner called once per message in order), in one pass. kafkajs's own copies
 * the partition's array for every message (`[...current, message]`): quadratic in the records of a
 * partition per send, ~2.7 KB of short-lived arrays per record at 2,000 records over 3 partitions
 * (tulios/kafkajs#1576 proposes the same fix upstream; not released).
 */
export function groupMessagesPerPartition(args: GroupingArgs): Record<number, Message[]> {
  const out: Record<number, Message[]> = {};
  const { topic, partitionMetadata, messages, partitioner } = args;
  if (partitionMetadata.length === 0) return out;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = out[partition];
    if (list === undefined) out[partition] = [message];
    else list.push(message);
  }
  return out;
}
