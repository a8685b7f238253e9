/**
 * Deterministic trace and span ids. A process is named by (boot id, pid, boot-time start ns), so
 * every batch, and every podtrace restart within the same boot, derives the same ids for it: a
 * child exported minutes after its parent still points at the parent's span.
 *
 * The hash is murmur3's 32-bit block mix run in independent lanes (one per output word), each lane
 * seeded by one 32-bit word of the 128-bit boot id. Not cryptographic: ids only need to be unique
 * and stable, and this runs for every span.
 */
const TWO_32 = 0x1_0000_0000;

const DOMAIN_PROCESS_SPAN = 0x70726f63; // 'proc'
const DOMAIN_PROCESS_TRACE = 0x74726163; // 'trac'
const DOMAIN_EVENT_SPAN = 0x65760000; // 'ev' + kind
const DOMAIN_EVENT_TRACE = 0x65740000; // 'et' + kind

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function lo32(n: number): number {
  return (n - Math.floor(n / TWO_32) * TWO_32) >>> 0;
}

function hi32(n: number): number {
  return Math.floor(n / TWO_32) >>> 0;
}

/** Four 32-bit seeds from a boot id (`/proc/sys/kernel/random/boot_id`, a UUID); any other string is hashed. */
export function bootIdSeeds(bootId: string): [number, number, number, number] {
  const hex = bootId.trim().replace(/-/g, '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex)) {
    return [0, 8, 16, 24].map((i) => parseInt(hex.slice(i, i + 8), 16) >>> 0) as [
      number,
      number,
      number,
      number,
    ];
  }
  const seeds: [number, number, number, number] = [0x9747b28c, 0x5bd1e995, 0x27d4eb2f, 0x165667b1];
  for (let lane = 0; lane < 4; lane++) {
    let h = seeds[lane] as number;
    for (let i = 0; i < bootId.length; i++) h = mixBlock(h, bootId.charCodeAt(i));
    seeds[lane] = finalize(h, bootId.length);
  }
  return seeds;
}

export class SpanIdGenerator {
  private readonly seeds: [number, number, number, number];

  constructor(bootId: string) {
    this.seeds = bootIdSeeds(bootId);
  }

  private lane(lane: number, a: number, b: number, c: number, d: number, e: number): number {
    let h = this.seeds[lane] as number;
    h = mixBlock(h, a);
    h = mixBlock(h, b);
    h = mixBlock(h, c);
    h = mixBlock(h, d);
    h = mixBlock(h, e);
    return finalize(h, 20);
  }

  private id(bytes: 8 | 16, a: number, b: number, c: number, d: number, e: number): Uint8Array {
    // A plain Uint8Array (V8 keeps one this small on its heap): no Buffer-pool slice per id.
    const out = new Uint8Array(bytes);
    let any = 0;
    for (let i = 0; i < bytes / 4; i++) {
      const word = this.lane(i, a, b, c, d, e);
      any |= word;
      const at = i * 4;
      out[at] = word >>> 24;
      out[at + 1] = (word >>> 16) & 0xff;
      out[at + 2] = (word >>> 8) & 0xff;
      out[at + 3] = word & 0xff;
    }
    if (any === 0) out[bytes - 1] = 1; // all-zero ids are invalid in OTLP
    return out;
  }

  /** The span id of the `process` span of (pid, start). */
  processSpanId(pid: number, startNs: number): Uint8Array {
    return this.id(8, DOMAIN_PROCESS_SPAN, pid, lo32(startNs), hi32(startNs), 0);
  }

  /** The trace id a process rooting its own trace gets. */
  processTraceId(pid: number, startNs: number): Uint8Array {
    return this.id(16, DOMAIN_PROCESS_TRACE, pid, lo32(startNs), hi32(startNs), 0);
  }

  /** The span id of one event's span (kind, thread, kernel time). */
  eventSpanId(kind: number, pid: number, tid: number, bootNs: number): Uint8Array {
    return this.id(8, DOMAIN_EVENT_SPAN | kind, pid, tid, lo32(bootNs), hi32(bootNs));
  }

  /** The trace id of an event span that roots its own trace. */
  eventTraceId(kind: number, pid: number, tid: number, bootNs: number): Uint8Array {
    return this.id(16, DOMAIN_EVENT_TRACE | kind, pid, tid, lo32(bootNs), hi32(bootNs));
  }
}
