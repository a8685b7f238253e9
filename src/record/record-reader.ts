import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import {
  CHUNK_HEADER_BYTES,
  ChunkType,
  PREAMBLE_BYTES,
  RECORD_FORMAT_VERSION,
  RECORD_MAGIC,
  headerProblem,
  pad8,
} from './record-format';
import type { RecordHeader, RecordTrailer } from './record-format';
import { RecordFormatError } from './record-format-error';
import {
  MAX_CHUNK_BYTES,
  MAX_HEADER_JSON_BYTES,
  batchProblem,
  parseCgroupPairs,
  parseHeaderJson,
  parseTrailer,
} from './record-validate';

export { RecordFormatError };

export interface RecordChunk {
  type: ChunkType;
  /** ns since the recording started. */
  captureNs: number;
  payload: Buffer;
  /** Where the chunk starts in the file. */
  offset: number;
}

/** A recording read whole into memory (tests, small files). */
export interface Recording {
  header: RecordHeader;
  batches: Buffer[];
  cgroupPaths: Map<number, string>;
  trailer: RecordTrailer | null;
}

/** What a full pass over a recording found (it throws on anything else). */
export interface RecordingScan {
  chunks: number;
  batches: number;
  /** The byte where the file was cut short (an incomplete last chunk), null when it ends cleanly. */
  truncatedAt: number | null;
}

/** Adds a Cgroups chunk's `[[id, path], ...]` to `into` (the reader has already checked its shape). */
export function mergeCgroupChunk(payload: Buffer, into: Map<number, string>): void {
  for (const [id, p] of parseCgroupPairs(payload)) into.set(id, p);
}

function isZero(buf: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return i;
  return -1;
}

const CHUNK_TYPES = new Set<number>([ChunkType.Batch, ChunkType.Cgroups, ChunkType.Trailer]);

/** Read-ahead: a recording of small batches is read in windows of this size, not chunk by chunk. */
const READ_AHEAD_BYTES = 1 << 20;

/**
 * Positional reads through a read-ahead window. Each refill allocates a new window, so slices
 * handed out earlier stay valid (no copy per chunk).
 */
class WindowedFile {
  private win = Buffer.alloc(0);
  private winStart = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** `len` bytes at `pos`; the caller has checked that they lie inside the file. */
  async slice(pos: number, len: number): Promise<Buffer> {
    if (pos < this.winStart || pos + len > this.winStart + this.win.length) {
      const want = Math.min(Math.max(len, READ_AHEAD_BYTES), this.size - pos);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await this.fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.win = buf.subarray(0, got);
      this.winStart = pos;
      if (got < len) throw new Error(`short read at byte ${pos + got} (the file shrank while being read)`);
    }
    return this.win.subarray(pos - this.winStart, pos - this.winStart + len);
  }
}

/**
 * Streams a recording chunk by chunk (a file may be larger than memory). Every length, type and
 * payload is checked before it is used; anything `podtrace record` cannot have written throws a
 * RecordFormatError naming the file and the byte offset. A file cut short (the recorder was
 * killed) ends at the last complete chunk and reports where (`truncatedAt`).
 */
export class RecordFileReader {
  /** Set by a complete pass of chunks() over a file whose last chunk is incomplete. */
  truncatedAt: number | null = null;

  private constructor(
    readonly path: string,
    readonly header: RecordHeader,
    private readonly firstChunkAt: number,
  ) {}

  static async open(path: string): Promise<RecordFileReader> {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      const fail = (at: number, problem: string): never => {
        throw new RecordFormatError(path, at, problem);
      };
      const pre = Buffer.alloc(PREAMBLE_BYTES);
      const { bytesRead } = await fh.read(pre, 0, PREAMBLE_BYTES, 0);
      if (bytesRead < PREAMBLE_BYTES)
        fail(0, `not a podtrace recording (${size} bytes, shorter than the ${PREAMBLE_BYTES}-byte preamble)`);
      if (pre.toString('latin1', 0, 8) !== RECORD_MAGIC) fail(0, 'not a podtrace recording (bad magic)');
      const formatVersion = pre.readUInt16LE(8);
      const recordVersion = pre.readUInt16LE(10);
      const versionProblem = headerProblem({ formatVersion, recordVersion } as RecordHeader);
      if (versionProblem !== null) fail(formatVersion === RECORD_FORMAT_VERSION ? 10 : 8, versionProblem);
      const jsonLen = pre.readUInt32LE(12);
      if (jsonLen > MAX_HEADER_JSON_BYTES)
        fail(
          12,
          `header length ${jsonLen} is larger than any header podtrace writes (${MAX_HEADER_JSON_BYTES})`,
        );
      const padded = pad8(jsonLen);
      if (PREAMBLE_BYTES + padded > size)
        fail(12, `header length ${jsonLen} runs past the end of the file (${size} bytes)`);
      const json = Buffer.alloc(padded);
      await fh.read(json, 0, padded, PREAMBLE_BYTES);
      const nonZero = isZero(json, jsonLen, padded);
      if (nonZero >= 0) fail(PREAMBLE_BYTES + nonZero, 'header padding is not zero');
      let header: RecordHeader;
      try {
        header = parseHeaderJson(json.subarray(0, jsonLen));
      } catch (err) {
        return fail(PREAMBLE_BYTES, (err as Error).message);
      }
      header.formatVersion = formatVersion;
      header.recordVersion = recordVersion;
      return new RecordFileReader(path, header, PREAMBLE_BYTES + padded);
    } finally {
      await fh.close();
    }
  }

  /** Yields every complete chunk in file order; throws RecordFormatError at the first bad one. */
  async *chunks(): AsyncGenerator<RecordChunk> {
    const fh: FileHandle = await open(this.path, 'r');
    try {
      const size = (await fh.stat()).size;
      const fail = (at: number, problem: string): never => {
        throw new RecordFormatError(this.path, at, problem);
      };
      const file = new WindowedFile(fh, size);
      let pos = this.firstChunkAt;
      let lastCapture = 0;
      let trailerAt = -1;
      this.truncatedAt = null;
      while (pos < size) {
        if (pos + CHUNK_HEADER_BYTES > size) {
          this.truncatedAt = pos;
          return;
        }
        const head = await file.slice(pos, CHUNK_HEADER_BYTES);
        const rawType = head.readUInt32LE(0);
        const len = head.readUInt32LE(4);
        const captureNs = Number(head.readBigUInt64LE(8));
        if (!CHUNK_TYPES.has(rawType))
          fail(pos, `chunk type ${rawType} is not 1 (batch), 2 (cgroups) or 3 (trailer)`);
        const type = rawType as ChunkType;
        if (trailerAt >= 0) fail(pos, `chunk after the trailer at byte ${trailerAt}`);
        if (len > MAX_CHUNK_BYTES)
          fail(pos + 4, `chunk length ${len} is larger than any chunk podtrace writes (${MAX_CHUNK_BYTES})`);
        if (captureNs < lastCapture)
          fail(pos + 8, `capture time ${captureNs} ns is before the previous chunk's (${lastCapture} ns)`);
        const padded = pad8(len);
        if (pos + CHUNK_HEADER_BYTES + padded > size) {
          // The recorder was killed mid-write: what came before is complete and usable.
          this.truncatedAt = pos;
          return;
        }
        const payloadAt = pos + CHUNK_HEADER_BYTES;
        const body = await file.slice(payloadAt, padded);
        const nonZero = isZero(body, len, padded);
        if (nonZero >= 0) fail(payloadAt + nonZero, 'chunk padding is not zero');
        const payload = body.subarray(0, len);
        if (type === ChunkType.Batch) {
          const p = batchProblem(payload);
          if (p !== null) fail(payloadAt + p.at, p.problem);
        } else {
          try {
            if (type === ChunkType.Cgroups) parseCgroupPairs(payload);
            else parseTrailer(payload);
          } catch (err) {
            fail(payloadAt, (err as Error).message);
          }
          if (type === ChunkType.Trailer) trailerAt = pos;
        }
        lastCapture = captureNs;
        const offset = pos;
        pos = payloadAt + padded;
        yield { type, captureNs, payload, offset };
      }
    } finally {
      await fh.close();
    }
  }

  /** Reads the whole file once, checking every chunk (replay does this before it plays anything). */
  async scan(): Promise<RecordingScan> {
    const out: RecordingScan = { chunks: 0, batches: 0, truncatedAt: null };
    for await (const c of this.chunks()) {
      out.chunks++;
      if (c.type === ChunkType.Batch) out.batches++;
    }
    out.truncatedAt = this.truncatedAt;
    return out;
  }
}

/** Reads a whole recording into memory. */
export async function readRecording(path: string): Promise<Recording> {
  const reader = await RecordFileReader.open(path);
  const rec: Recording = { header: reader.header, batches: [], cgroupPaths: new Map(), trailer: null };
  for await (const c of reader.chunks()) {
    if (c.type === ChunkType.Batch) rec.batches.push(c.payload);
    else if (c.type === ChunkType.Cgroups) mergeCgroupChunk(c.payload, rec.cgroupPaths);
    else if (c.type === ChunkType.Trailer) rec.trailer = parseTrailer(c.payload);
  }
  return rec;
}

/** Reads only the header (cheap), e.g. to validate `source.replay.file` at start. */
export async function readRecordHeader(path: string): Promise<RecordHeader> {
  return (await RecordFileReader.open(path)).header;
}
