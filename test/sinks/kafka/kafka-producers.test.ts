import type { PartitionMetadata, PartitionerArgs } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { MAX_CACHED_PARTITION_KEYS, cachedPartitioner } from '../../../src/sinks/kafka/kafka-producers';

function metadata(partitions: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: partitions }, (_, i) => ({
    partitionErrorCode: 0,
    partitionId: i,
    leader: leaderless.includes(i) ? -1 : 1,
    replicas: [1],
    isr: [1],
  }));
}

const args = (key: string, partitionMetadata: PartitionMetadata[], partition?: number): PartitionerArgs => ({
  topic: 'podtrace.tcp',
  partitionMetadata,
  message: { key, value: 'v', ...(partition !== undefined ? { partition } : {}) },
});

describe('cachedPartitioner', () => {
  it('chooses the partition kafkajs chooses for every key, hashing each key once', () => {
    const reference = Partitioners.DefaultPartitioner();
    let calls = 0;
    const inner = Partitioners.DefaultPartitioner();
    const cached = cachedPartitioner((a) => {
      calls++;
      return inner(a);
    });
    const meta = metadata(7);
    const keys = Array.from({ length: 300 }, (_, i) => `pod-${i}-${'x'.repeat(i % 13)}`);
    for (let round = 0; round < 3; round++)
      for (const k of keys) expect(cached(args(k, meta))).toBe(reference(args(k, meta)));
    expect(calls).toBe(keys.length);
  });

  it('forgets its choices when the partition count changes', () => {
    const reference = Partitioners.DefaultPartitioner();
    const cached = cachedPartitioner(Partitioners.DefaultPartitioner());
    const keys = Array.from({ length: 50 }, (_, i) => `uid-${i}`);
    for (const k of keys) cached(args(k, metadata(3)));
    const moved = keys.filter((k) => reference(args(k, metadata(3))) !== reference(args(k, metadata(8))));
    expect(moved.length).toBeGreaterThan(0);
    for (const k of keys) expect(cached(args(k, metadata(8)))).toBe(reference(args(k, metadata(8))));
  });

  it('keeps an explicit partition and a key kafkajs hashes the same with a leaderless partition', () => {
    const cached = cachedPartitioner(Partitioners.DefaultPartitioner());
    expect(cached(args('a', metadata(4), 2))).toBe(2);
    const reference = Partitioners.DefaultPartitioner();
    const meta = metadata(4, [1]);
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(cached(args(k, meta))).toBe(reference(args(k, meta)));
  });

  it('restarts its cache past the key bound instead of growing', () => {
    let calls = 0;
    const cached = cachedPartitioner(() => ++calls % 3);
    const meta = metadata(3);
    for (let i = 0; i < MAX_CACHED_PARTITION_KEYS; i++) cached(args(`k${i}`, meta));
    expect(calls).toBe(MAX_CACHED_PARTITION_KEYS);
    cached(args('k0', meta));
    cached(args('k0', meta));
    expect(calls).toBe(MAX_CACHED_PARTITION_KEYS + 1);
  });
});
