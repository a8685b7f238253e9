/** One Kafka record as the sink queues it: encoded once, when the sink accepts the events. */
export interface KafkaRecord {
  topic: string;
  key: string;
  value: string | Buffer;
  headers: Readonly<Record<string, string>>;
  /** Events the record stands for, the unit drops are counted in (json: 1; loss: 0). */
  events: number;
}

/** Record framing and headers on the wire, roughly (offsets, lengths, timestamps, header names). */
export const RECORD_FRAMING_BYTES = 64;

/** The record's size for the queue's and batches' byte bounds (value and key; JSON is ASCII but for argv). */
export function kafkaRecordBytes(r: KafkaRecord): number {
  const value = typeof r.value === 'string' ? r.value.length : r.value.byteLength;
  return value + r.key.length + RECORD_FRAMING_BYTES;
}
