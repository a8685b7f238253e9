import { HEADER } from '../events/layout';
import type { RecordHeader, RecordTrailer } from './record-format';

/** Header JSON larger than this is not one `podtrace record` wrote (it holds a few short strings). */
export const MAX_HEADER_JSON_BYTES = 1 << 20;
/** Largest chunk payload: a batch of `source.ebpf.batchBytes` (≤ 64 MiB) plus the record that overflowed it. */
export const MAX_CHUNK_BYTES = (64 << 20) + (64 << 10);

/** A problem found at `at` bytes into the part being checked. */
export interface Problem {
  at: number;
  problem: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses strict UTF-8 JSON; throws an Error saying what is wrong with it. */
function parseJson(bytes: Buffer, what: string): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (err) {
    throw new Error(`${what} is not valid UTF-8`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const HEADER_FIELDS: Array<[keyof RecordHeader, 'string' | 'number' | 'strings']> = [
  ['nodeName', 'string'],
  ['kernelRelease', 'string'],
  ['clockOffsetNs', 'number'],
  ['bootTimeUnixMs', 'number'],
  ['startedAtUnixMs', 'number'],
  ['probes', 'strings'],
  ['cgroupRoot', 'string'],
];

function fieldProblem(
  o: Record<string, unknown>,
  key: string,
  type: 'string' | 'number' | 'strings',
): string | null {
  const v = o[key];
  const ok =
    type === 'string'
      ? typeof v === 'string'
      : type === 'number'
        ? typeof v === 'number' && Number.isFinite(v)
        : Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (ok) return null;
  const want = type === 'strings' ? 'a list of strings' : type === 'number' ? 'a finite number' : 'a string';
  return `header field ${key} is ${v === undefined ? 'missing' : JSON.stringify(v)}, not ${want}`;
}

/** The header JSON with every field `podtrace record` writes, typed; throws Error naming the field. */
export function parseHeaderJson(json: Buffer): RecordHeader {
  const o = parseJson(json, 'header');
  if (!isObject(o)) throw new Error('header is not a JSON object');
  for (const [key, type] of HEADER_FIELDS) {
    const p = fieldProblem(o, key, type);
    if (p !== null) throw new Error(p);
  }
  return o as unknown as RecordHeader;
}

/** A cgroups chunk: `[[id, path], ...]` with non-negative integer ids and string paths. */
export function parseCgroupPairs(payload: Buffer): Array<[number, string]> {
  const v = parseJson(payload, 'cgroups chunk');
  if (!Array.isArray(v)) throw new Error('cgroups chunk is not a JSON list');
  v.forEach((pair: unknown, i) => {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      !Number.isSafeInteger(pair[0]) ||
      (pair[0] as number) < 0 ||
      typeof pair[1] !== 'string'
    )
      throw new Error(`cgroups chunk entry ${i} is ${JSON.stringify(pair)}, not [id, "path"]`);
  });
  return v as Array<[number, string]>;
}

/** A trailer chunk: batches, records and durationNs as non-negative numbers, kernelLost counts by name. */
export function parseTrailer(payload: Buffer): RecordTrailer {
  const o = parseJson(payload, 'trailer');
  if (!isObject(o)) throw new Error('trailer is not a JSON object');
  for (const key of ['batches', 'records', 'durationNs']) {
    const n = o[key];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      throw new Error(`trailer field ${key} is ${JSON.stringify(n)}, not a non-negative number`);
  }
  const lost = o.kernelLost;
  if (!isObject(lost) || !Object.values(lost).every((n) => typeof n === 'number' && n >= 0))
    throw new Error(`trailer field kernelLost is ${JSON.stringify(lost)}, not counts by event name`);
  return o as unknown as RecordTrailer;
}

/**
 * A batch must be what the addon hands JS: whole records back to back, each starting with
 * pt_header, each at least a header long, each padded to 8 bytes, the last one ending the batch.
 * The records' contents (kind, size for the kind) are the decoder's to judge (it counts them as
 * malformed); this checks only the framing, which when wrong makes every later record garbage.
 */
export function batchProblem(payload: Buffer): Problem | null {
  if (payload.length === 0) return { at: 0, problem: 'empty batch' };
  let off = 0;
  while (off < payload.length) {
    if (off + HEADER.size > payload.length)
      return {
        at: off,
        problem: `${payload.length - off} bytes after the last record, shorter than a record header (${HEADER.size})`,
      };
    const size = payload.readUInt16LE(off + HEADER.recordSize);
    if (size < HEADER.size)
      return {
        at: off + HEADER.recordSize,
        problem: `record size ${size} is smaller than its header (${HEADER.size})`,
      };
    const stride = (size + 7) & ~7;
    if (off + stride > payload.length)
      return {
        at: off + HEADER.recordSize,
        problem: `record size ${size} runs past the end of its batch (${payload.length - off} bytes left)`,
      };
    off += stride;
  }
  return null;
}
