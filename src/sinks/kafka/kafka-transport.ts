import type { CompressionTypes, Message, RecordMetadata } from 'kafkajs';
import { Partitioners } from './kafkajs';
import type { ExportTransport, SendFailure, SendResult } from '../exporter/send-outcome';
import {
  FATAL_PRODUCER_ERRORS,
  TOO_LARGE_ERRORS,
  TOPIC_ERRORS,
  classifyKafkaError,
  kafkaErrorType,
  kafkaFailureReason,
} from './kafka-errors';
import type { KafkaProducers, TopicProducer } from './kafka-producers';
import type { KafkaRecord } from './kafka-record';
import { RECORD_FRAMING_BYTES } from './kafka-record';

/** The drop reason of records a topic error outlasted the retry budget for (one label per topic). */
export const topicRefusedReason = (topic: string): string => `topic_refused:${topic}`;

/**
 * Kafka as an exporter transport: the records of one topic (the exporter's key) → one
 * `sendBatch`. Records of partitions kafkajs resolved without an acknowledgement are handed back
 * to be sent again (kafkajs 2.2 can skip partitions whose leader moved to a broker that already
 * answered).
 */
export class KafkaTransport implements ExportTransport<KafkaRecord, Message[]> {
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly producers: KafkaProducers,
    private readonly acks: number,
    private readonly compression: CompressionTypes,
  ) {}

  /** The records are kafkajs messages already (kafkajs copies each into its own object anyway). */
  encode(records: readonly KafkaRecord[]): Message[] {
    return records.slice();
  }

  byteLength(messages: Message[]): number {
    let n = 0;
    for (const m of messages) {
      const v = m.value;
      n += (typeof v === 'string' ? v.length : (v?.byteLength ?? 0)) + RECORD_FRAMING_BYTES;
      if (typeof m.key === 'string') n += m.key.length;
    }
    return n;
  }

  async send(
    messages: Message[],
    records: readonly KafkaRecord[],
    topic: string,
  ): Promise<SendResult<KafkaRecord>> {
    const tp = await this.producers.get(topic);
    tp.chosen.clear();
    const results = await tp.producer.sendBatch({
      topicMessages: [{ topic, messages }],
      acks: this.acks,
      compression: this.compression,
    });
    if (this.acks === 0) return {};
    const unacked = this.unacknowledged(tp, topic, messages, records, results);
    return unacked.length === 0 ? {} : { unacknowledged: unacked };
  }

  classify(err: unknown, topic: string): SendFailure {
    const code = kafkaFailureReason(err);
    const type = kafkaErrorType(err);
    const message = classifyKafkaError(err).message;
    if (type !== null && FATAL_PRODUCER_ERRORS.has(type)) {
      this.producers.rebuild(topic);
      return {
        kind: 'retry',
        code,
        message,
        hint: 'the producer is rebuilt (new producer id) and the batch re-sent',
      };
    }
    if (type !== null && TOO_LARGE_ERRORS.has(type)) return { kind: 'too_large', code, message };
    if (type !== null && TOPIC_ERRORS.has(type))
      return {
        kind: 'retry',
        code,
        message,
        dropReason: topicRefusedReason(topic),
        hint: `create topic ${topic} (or allow auto-creation), grant this client WRITE and DESCRIBE on it, or map the event group to an existing topic in sinks.kafka.topics`,
      };
    const e = classifyKafkaError(err);
    if (e.retriable) return { kind: 'retry', code, message, bounded: false };
    return { kind: 'permanent', code, message };
  }

  /** The records whose partition has no acknowledgement in `results`. */
  private unacknowledged(
    tp: TopicProducer,
    topic: string,
    messages: Message[],
    records: readonly KafkaRecord[],
    results: RecordMetadata[],
  ): KafkaRecord[] {
    const acked = new Set<number>();
    for (const r of results) if (r.errorCode === 0 && r.topicName === topic) acked.add(r.partition);
    let complete = true;
    for (const n of tp.chosen) if (!acked.has(n)) complete = false;
    if (complete) return [];
    // Rare path: find the records of unacknowledged partitions (keyed, so the partitioner is deterministic).
    const partitionMetadata = tp.meta;
    const out: KafkaRecord[] = [];
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      if (
        partitionMetadata === undefined ||
        !acked.has(this.partitioner({ topic, partitionMetadata, message }))
      )
        out.push(records[i]!);
    }
    return out;
  }
}
