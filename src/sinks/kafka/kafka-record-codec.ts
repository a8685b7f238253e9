import type { ItemCodec } from '../exporter/disk-queue';
import type { KafkaRecord } from './kafka-record';

/**
 * A Kafka record in the disk queue (`sinks.kafka.queue.storage: disk`), already encoded as it
 * will be sent: flags (u8: bit 0 = value is a string) · events (u32 LE) · topic, key and headers
 * JSON (each u32 LE length + UTF-8; no headers (json event records): length 0) · value (the
 * rest). Header objects are shared constants: each is serialized once and read back as one shared
 * object per distinct set.
 */
const VALUE_IS_STRING = 1;
const MAX_INTERNED_HEADERS = 64;

export function kafkaRecordCodec(): ItemCodec<KafkaRecord> {
  const encodedHeaders = new WeakMap<object, Buffer>();
  const interned = new Map<string, Readonly<Record<string, string>>>();
  const none = Buffer.alloc(0);
  return {
    encode(r: KafkaRecord): Uint8Array {
      let headers = r.headers === undefined ? none : encodedHeaders.get(r.headers);
      if (headers === undefined && r.headers !== undefined) {
        headers = Buffer.from(JSON.stringify(r.headers));
        encodedHeaders.set(r.headers, headers);
      }
      headers ??= none;
      const isString = typeof r.value === 'string';
      const topicLen = Buffer.byteLength(r.topic);
      const keyLen = Buffer.byteLength(r.key);
      const valueLen = typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength;
      const out = Buffer.allocUnsafe(1 + 4 + 4 + topicLen + 4 + keyLen + 4 + headers.length + valueLen);
      let at = out.writeUInt8(isString ? VALUE_IS_STRING : 0, 0);
      at = out.writeUInt32LE(r.events, at);
      at = out.writeUInt32LE(topicLen, at);
      at += out.write(r.topic, at);
      at = out.writeUInt32LE(keyLen, at);
      at += out.write(r.key, at);
      at = out.writeUInt32LE(headers.length, at);
      at += headers.copy(out, at);
      if (isString) out.write(r.value as string, at);
      else (r.value as Buffer).copy(out, at);
      return out;
    },
    decode(b: Buffer): KafkaRecord {
      const flags = b.readUInt8(0);
      const events = b.readUInt32LE(1);
      let at = 5;
      const field = (): Buffer => {
        const len = b.readUInt32LE(at);
        const f = b.subarray(at + 4, at + 4 + len);
        if (f.length !== len) throw new RangeError('kafka record truncated');
        at += 4 + len;
        return f;
      };
      const topic = field().toString();
      const key = field().toString();
      const headerText = field().toString();
      let headers = headerText === '' ? undefined : interned.get(headerText);
      if (headers === undefined && headerText !== '') {
        headers = Object.freeze(JSON.parse(headerText) as Record<string, string>);
        if (interned.size >= MAX_INTERNED_HEADERS) interned.clear();
        interned.set(headerText, headers);
      }
      const rest = b.subarray(at);
      // A copy: the read buffer is reused only through this record, but keep the record self-contained.
      const value = (flags & VALUE_IS_STRING) !== 0 ? rest.toString() : Buffer.from(rest);
      return headers === undefined ? { topic, key, value, events } : { topic, key, value, headers, events };
    },
  };
}
