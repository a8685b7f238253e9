import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  CHUNK_HEADER_BYTES,
  ChunkType,
  PREAMBLE_BYTES,
  RECORD_MAGIC,
  headerProblem,
  pad8,
} from './record-format';
import type { RecordHeader, RecordTrailer } from './record-format';

export interface RecordChunk {
  type: ChunkType;
  /** ns since the recording started. */
  captureNs: number;
  payload: Buffer;
}

/** A recording read whole into memory (tests, small files). */
export interface Recording {
  header: RecordHeader;
  batches: Buffer[];
  cgroupPaths: Map<number, string>;
  trailer: RecordTrailer | null;
}

export class RecordFormatError extends Error {}

function parseHeader(path: string, pre: Buffer, json: Buffer): RecordHeader {
  if (pre.length < PREAMBLE_BYTES || pre.toString('latin1', 0, 8) !== RECORD_MAGIC)
    throw new RecordFormatError(`${path}: not a podtrace recording (bad magic)`);
  let header: RecordHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as RecordHeader;
  } catch (err) {
    throw new RecordFormatError(`${path}: header is not valid JSON`, { cause: err });
  }
  header.formatVersion = pre.readUInt16LE(8);
  header.recordVersion = pre.readUInt16LE(10);
  const problem = headerProblem(header);
  if (problem !== null) throw new RecordFormatError(`${path}: ${problem}`);
  return header;
}

/** Adds a Cgroups chunk's `[[id, path], ...]` to `into`. */
export function mergeCgroupChunk(payload: Buffer, into: Map<number, string>): void {
  const pairs = JSON.parse(payload.toString('utf8')) as [number, string][];
  for (const [id, p] of pairs) into.set(id, p);
}

/**
 * Streams a recording chunk by chunk (a file may be larger than memory). A file cut short (the
 * recorder was killed) ends at the last complete chunk.
 */
export class RecordFileReader {
  private constructor(
    readonly path: string,
    readonly header: RecordHeader,
    private readonly firstChunkAt: number,
  ) {}

  static async open(path: string): Promise<RecordFileReader> {
    const fh = await open(path, 'r');
    try {
      const pre = Buffer.alloc(PREAMBLE_BYTES);
      const { bytesRead } = await fh.read(pre, 0, PREAMBLE_BYTES, 0);
      if (bytesRead < PREAMBLE_BYTES || pre.toString('latin1', 0, 8) !== RECORD_MAGIC)
        throw new RecordFormatError(`${path}: not a podtrace recording (bad magic)`);
      const jsonLen = pre.readUInt32LE(12);
      const json = Buffer.alloc(jsonLen);
      await fh.read(json, 0, jsonLen, PREAMBLE_BYTES);
      return new RecordFileReader(path, parseHeader(path, pre, json), PREAMBLE_BYTES + pad8(jsonLen));
    } finally {
      await fh.close();
    }
  }

  /** Yields every complete chunk in file order. */
  async *chunks(): AsyncGenerator<RecordChunk> {
    const fh: FileHandle = await open(this.path, 'r');
    try {
      let pos = this.firstChunkAt;
      const head = Buffer.alloc(CHUNK_HEADER_BYTES);
      for (;;) {
        const h = await fh.read(head, 0, CHUNK_HEADER_BYTES, pos);
        if (h.bytesRead < CHUNK_HEADER_BYTES) return;
        const type = head.readUInt32LE(0) as ChunkType;
        const len = head.readUInt32LE(4);
        const captureNs = Number(head.readBigUInt64LE(8));
        const payload = Buffer.allocUnsafe(len);
        const p = await fh.read(payload, 0, len, pos + CHUNK_HEADER_BYTES);
        if (p.bytesRead < len) return;
        pos += CHUNK_HEADER_BYTES + pad8(len);
        yield { type, captureNs, payload };
      }
    } finally {
      await fh.close();
    }
  }
}

/** Reads a whole recording into memory. */
export async function readRecording(path: string): Promise<Recording> {
  const reader = await RecordFileReader.open(path);
  const rec: Recording = { header: reader.header, batches: [], cgroupPaths: new Map(), trailer: null };
  for await (const c of reader.chunks()) {
    if (c.type === ChunkType.Batch) rec.batches.push(c.payload);
    else if (c.type === ChunkType.Cgroups) mergeCgroupChunk(c.payload, rec.cgroupPaths);
    else if (c.type === ChunkType.Trailer)
      rec.trailer = JSON.parse(c.payload.toString('utf8')) as RecordTrailer;
  }
  return rec;
}

/** Reads only the header (cheap), e.g. to validate `source.replay.file` at start. */
export async function readRecordHeader(path: string): Promise<RecordHeader> {
  return (await RecordFileReader.open(path)).header;
}
