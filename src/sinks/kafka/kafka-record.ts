/**
 * One Kafka record as the sink queues it: encoded once, when the sink accepts the events, and
 * handed to kafkajs as it is (it is a kafkajs `Message`: no second object per record).
 */
export interface KafkaRecord {
  topic: string;
  key: string;
  value: string | Buffer;
  /**
   * Absent on `json` event records: kafkajs encodes every header of every record into buffers of
   * its own (about 10 µs a record), and what they said is in the value (`podtrace.schema`).
   */
  headers?: Readonly<Record<string, string>>;
  /** Events the record stands for, the unit drops are counted in (json: 1; loss: 0). */
  events: number;
}

/** Record framing and headers on the wire, roughly (offsets, lengths, timestamps, header names). */
export const RECORD_FRAMING_BYTES = 64;

/**
 * Memory a queued record holds beyond `kafkaRecordBytes` (the record object and its value's view
 * of a shared slab, or a Buffer's object): 703 B of heap and slab per json record against 594 B
 * counted, `node --expose-gc dist/bench/retained-bytes.js` (937 B when values were strings).
 * Counted by the buffer's byte bound only.
 */
export const KAFKA_RECORD_OVERHEAD_BYTES = 110;

/** The record's size for the queue's and batches' byte bounds (value and key; JSON is ASCII but for argv). */
export function kafkaRecordBytes(r: KafkaRecord): number {
  const value = typeof r.value === 'string' ? r.value.length : r.value.byteLength;
  return value + r.key.length + RECORD_FRAMING_BYTES;
}
