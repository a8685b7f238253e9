import { RECORD_VERSION } from '../events/layout';

/**
 * The `podtrace record` file format (docs/record-format.md). All integers little-endian.
 *
 *   file    = preamble, header JSON (padded to 8), chunk*
 *   preamble: magic "PTRECORD" (8 bytes), u16 format version, u16 record layout version, u32 header JSON bytes
 *   chunk   = u32 type, u32 payload bytes, u64 capture time (ns since the recording started), payload padded to 8
 *
 * Chunk types: 1 = one batch of raw ring-buffer records exactly as the addon delivered it;
 * 2 = cgroup paths (JSON `[[id, path], ...]`) resolved so far; 3 = trailer (JSON RecordTrailer).
 */
export const RECORD_MAGIC = 'PTRECORD';
export const RECORD_FORMAT_VERSION = 1;
export const PREAMBLE_BYTES = 16;
export const CHUNK_HEADER_BYTES = 16;

export enum ChunkType {
  Batch = 1,
  Cgroups = 2,
  Trailer = 3,
}

export interface RecordHeader {
  formatVersion: number;
  /** The pt_* struct layout version (PT_RECORD_VERSION) the records were written with. */
  recordVersion: number;
  nodeName: string;
  kernelRelease: string;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME when the recording started, ns: wall = boot + offset. */
  clockOffsetNs: number;
  /** Wall-clock time the machine booted (ms since the epoch), for humans. */
  bootTimeUnixMs: number;
  startedAtUnixMs: number;
  probes: string[];
  /** The cgroup2 mount whose directory inodes the cgroup ids name. */
  cgroupRoot: string;
}

export interface RecordTrailer {
  batches: number;
  records: number;
  durationNs: number;
  /** Failed ring-buffer reserves during the recording, by event name. */
  kernelLost: Record<string, number>;
}

export function pad8(n: number): number {
  return (n + 7) & ~7;
}

export function encodePreamble(header: RecordHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(PREAMBLE_BYTES + pad8(json.length));
  out.write(RECORD_MAGIC, 0, 'latin1');
  out.writeUInt16LE(header.formatVersion, 8);
  out.writeUInt16LE(header.recordVersion, 10);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, PREAMBLE_BYTES);
  return out;
}

export function encodeChunkHeader(type: ChunkType, payloadBytes: number, captureNs: number): Buffer {
  const out = Buffer.alloc(CHUNK_HEADER_BYTES);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(payloadBytes, 4);
  out.writeBigUInt64LE(BigInt(Math.max(0, Math.round(captureNs))), 8);
  return out;
}

/** Checks a header read from a file; returns the problem or null. */
export function headerProblem(h: RecordHeader): string | null {
  if (h.formatVersion !== RECORD_FORMAT_VERSION)
    return `record format version ${h.formatVersion} is not supported (this podtrace reads ${RECORD_FORMAT_VERSION})`;
  if (h.recordVersion !== RECORD_VERSION)
    return `record layout version ${h.recordVersion} does not match this podtrace's ${RECORD_VERSION}`;
  return null;
}
