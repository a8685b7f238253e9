import type { Kafka, PartitionMetadata, PartitionerArgs, Producer } from 'kafkajs';
import { Partitioners } from './kafkajs';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';

/** One topic's producer, with what kafkajs's partitioner chose during the current send. */
export interface TopicProducer {
  readonly producer: Producer;
  /** Partitions the partitioner chose since the last clear (one send per topic at a time). */
  readonly chosen: Set<number>;
  /** The topic's partitions, as the partitioner last saw them. */
  meta: PartitionMetadata[] | undefined;
}

/**
 * A kafkajs producer per topic, connected on first use. kafkajs refreshes the metadata of all of a
 * producer's topics together and fails the refresh when any topic has an error, so a topic the
 * cluster refuses (missing, not authorized) would stop every topic of a shared producer: with one
 * producer each, it stops only its own. A producer that hit a fatal error (its sequence state out
 * of step with the broker's) is replaced by a new one, with a new producer id and epoch.
 */
export class KafkaProducers {
  private readonly topics = new Map<string, Promise<TopicProducer>>();
  private readonly stale = new Set<string>();
  private connectedCount = 0;

  constructor(
    private readonly kafka: Kafka,
    private idempotent: boolean,
    private readonly log: Logger,
  ) {}

  /** True once some producer connected (and has not been closed). */
  get connected(): boolean {
    return this.connectedCount > 0;
  }

  /** The topic's connected producer; a failed connect is forgotten so the next call tries again. */
  get(topic: string): Promise<TopicProducer> {
    if (this.stale.delete(topic)) {
      this.log.info({ topic }, 'rebuilding the kafka producer after a fatal error');
      const old = this.topics.get(topic);
      this.topics.delete(topic);
      if (old !== undefined) void old.then((tp) => this.disconnect(tp)).catch(() => undefined);
    }
    let p = this.topics.get(topic);
    if (p === undefined) {
      p = this.connect(topic);
      this.topics.set(topic, p);
      p.catch(() => {
        if (this.topics.get(topic) === p) this.topics.delete(topic);
      });
    }
    return p;
  }

  /** The next get() builds a new producer for the topic. */
  rebuild(topic: string): void {
    this.stale.add(topic);
  }

  async close(): Promise<void> {
    const all = [...this.topics.values()];
    this.topics.clear();
    await Promise.all(all.map((p) => p.then((tp) => this.disconnect(tp)).catch(() => undefined)));
  }

  private async disconnect(tp: TopicProducer): Promise<void> {
    this.connectedCount = Math.max(0, this.connectedCount - 1);
    await tp.producer.disconnect().catch(() => undefined);
  }

  /** Connects a producer; falls back to a plain one when the cluster cannot serve an idempotent one. */
  private async connect(topic: string): Promise<TopicProducer> {
    let tp = this.create();
    try {
      await tp.producer.connect();
    } catch (err) {
      if (!this.idempotent || !idempotenceUnsupported(err)) throw err;
      this.log.warn(
        { err: errorMessage(err), topic },
        'the cluster cannot serve an idempotent producer (no controller / InitProducerId); producing without idempotence',
      );
      this.idempotent = false;
      await tp.producer.disconnect().catch(() => undefined);
      tp = this.create();
      await tp.producer.connect();
    }
    this.connectedCount++;
    return tp;
  }

  private create(): TopicProducer {
    const tp: { producer: Producer | null; chosen: Set<number>; meta: PartitionMetadata[] | undefined } = {
      producer: null,
      chosen: new Set(),
      meta: undefined,
    };
    tp.producer = this.kafka.producer({
      idempotent: this.idempotent,
      ...(this.idempotent ? { maxInFlightRequests: 1 } : {}),
      allowAutoTopicCreation: true,
      createPartitioner: () => {
        const partition = cachedPartitioner(Partitioners.DefaultPartitioner());
        return (args: PartitionerArgs): number => {
          const n = partition(args);
          tp.meta = args.partitionMetadata;
          tp.chosen.add(n);
          return n;
        };
      },
      metadataMaxAge: 60000,
    });
    return tp as TopicProducer;
  }
}

/** Keys remembered by cachedPartitioner (pods on a node are far fewer); past it the cache restarts. */
export const MAX_CACHED_PARTITION_KEYS = 65_536;

/**
 * kafkajs's partitioner hashes the key with murmur2 in 64-bit `Long` arithmetic and filters the
 * partition list on every record. A keyed record's partition depends only on its key and the
 * topic's partition count, so each key is hashed once per partition count (the same partition
 * kafkajs would choose, for as long as the count stays).
 */
export function cachedPartitioner(
  partition: (args: PartitionerArgs) => number,
): (args: PartitionerArgs) => number {
  const byKey = new Map<string, number>();
  let partitions = -1;
  let topic = '';
  return (args: PartitionerArgs): number => {
    const key = args.message.key;
    if (typeof key !== 'string' || (args.message.partition ?? null) !== null) return partition(args);
    if (
      args.partitionMetadata.length !== partitions ||
      args.topic !== topic ||
      byKey.size >= MAX_CACHED_PARTITION_KEYS
    ) {
      byKey.clear();
      partitions = args.partitionMetadata.length;
      topic = args.topic;
    }
    let n = byKey.get(key);
    if (n === undefined) {
      n = partition(args);
      byKey.set(key, n);
    }
    return n;
  };
}

/** A reachable cluster that cannot give an idempotent producer its id (no known controller, old or restricted broker). */
function idempotenceUnsupported(err: unknown): boolean {
  for (let cur: unknown = err, depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    const e = cur as { name?: unknown; type?: unknown; cause?: unknown };
    if (e.name === 'KafkaJSBrokerNotFound') return true;
    if (e.type === 'UNSUPPORTED_VERSION' || e.type === 'CLUSTER_AUTHORIZATION_FAILED') return true;
    if (e.cause === cur) break;
    cur = e.cause;
  }
  return false;
}
