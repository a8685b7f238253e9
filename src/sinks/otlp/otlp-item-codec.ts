import type { ItemCodec } from '../exporter/disk-queue';
import type { EncodedItem, SpanResource } from '../spans/span-model';

/**
 * A span or log record in the disk queue (`sinks.otlp.queue.storage: disk`): the mapped object as
 * JSON, byte fields (trace and span ids) as base64 `{"$b": …}`, without the encoder's cached
 * resource bytes. Resources are read back as one shared object per resource key, as the mapper
 * made them, so a replayed batch encodes each resource once.
 */
const MAX_INTERNED_RESOURCES = 4096;
const BYTES = '$b';

interface ResourceHolder {
  resource: SpanResource;
}

export function otlpItemCodec<T extends ResourceHolder>(): ItemCodec<T> {
  const resources = new Map<string, SpanResource>();
  function replacer(this: unknown, key: string, value: unknown): unknown {
    if (key === 'encoded') return undefined;
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array)
      return { [BYTES]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    return value;
  }
  function reviver(_key: string, value: unknown): unknown {
    if (value !== null && typeof value === 'object' && BYTES in value) {
      const text = (value as Record<string, unknown>)[BYTES];
      if (typeof text === 'string') return new Uint8Array(Buffer.from(text, 'base64'));
    }
    return value;
  }
  return {
    encode(item: T): Uint8Array {
      return Buffer.from(JSON.stringify(item, replacer));
    },
    decode(bytes: Buffer): T {
      const item = JSON.parse(bytes.toString(), reviver) as T;
      const r = item.resource;
      let shared = resources.get(r.key);
      if (shared === undefined) {
        if (resources.size >= MAX_INTERNED_RESOURCES) resources.clear();
        shared = r;
        resources.set(r.key, r);
      }
      item.resource = shared;
      return item;
    },
  };
}

/**
 * Queued spans or log records on disk: resource and encoded bytes. A record an earlier podtrace
 * wrote (the whole mapped SpanData or LogRecordData, before items were queued encoded) is read
 * back and encoded with `encodeEarlier`, so an upgrade replays it.
 */
export function encodedItemCodec<Earlier extends ResourceHolder>(
  encodeEarlier: (item: Earlier) => EncodedItem,
): ItemCodec<EncodedItem> {
  const inner = otlpItemCodec<EncodedItem | Earlier>();
  return {
    encode: (item) => inner.encode(item),
    decode(bytes: Buffer): EncodedItem {
      const item = inner.decode(bytes);
      return 'bytes' in item && item.bytes instanceof Uint8Array ? item : encodeEarlier(item as Earlier);
    },
  };
}
