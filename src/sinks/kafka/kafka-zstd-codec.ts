import { CompressionCodecs, CompressionTypes } from './kafkajs';
import * as zlib from 'node:zlib';

/** zstd level of Kafka record batches: as small as gzip's default level at a fifth of its CPU (BENCHMARKS.md). */
export const KAFKA_ZSTD_LEVEL = 3;

/** The part of node:zlib the codec needs (absent on a Node without zstd). */
type ZstdZlib = { readonly zstdCompress?: unknown; readonly zstdDecompress?: unknown };

/** True when this Node has zlib's zstd (Node >= 22.15, built with it). */
export function zstdAvailable(lib: ZstdZlib = zlib): boolean {
  return typeof lib.zstdCompress === 'function' && typeof lib.zstdDecompress === 'function';
}

/** Why `sinks.kafka.compression: zstd` cannot work here, or null. */
export function zstdProblem(available: boolean = zstdAvailable()): string | null {
  if (available) return null;
  return `sinks.kafka.compression: "zstd" needs Node's zlib zstd (Node >= 22.15); this is Node ${process.version}: use gzip or none`;
}

let registered = false;

/**
 * Gives kafkajs a zstd codec (Kafka compression type 4; brokers >= 2.1) over Node's built-in
 * zlib, for producing and for reading zstd batches back. kafkajs keeps one codec table per
 * process, so this registers once. Throws when this Node has no zstd (the config check says so
 * first).
 */
/** The output chunk size for compressing `inputBytes`: an eighth of it, within 16 KiB .. 256 KiB. */
export function zstdChunkSize(inputBytes: number): number {
  return Math.min(256 * 1024, Math.max(16 * 1024, inputBytes >> 3));
}

export function registerZstdCodec(): void {
  if (registered) return;
  const problem = zstdProblem();
  if (problem !== null) throw new Error(problem);
  const params = { [zlib.constants.ZSTD_c_compressionLevel]: KAFKA_ZSTD_LEVEL };
  // The batch's size up front lets zstd size its window and tables to it: a 60 KB batch takes a
  // context of a few hundred KB instead of level 3's ~2.4 MB (held per concurrent compression).
  // Output chunks of an eighth of the batch (16 KiB .. 256 KiB) instead of zlib's 16 KiB: a
  // compressed batch comes back in one or two chunks, not one main-thread callback and copy per
  // 16 KiB (an 880 KB json batch: 1.5-2.1 -> 0.7-1.7 ms of main thread per compression here).
  const compress = (buf: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) =>
      zlib.zstdCompress(
        buf,
        { params, pledgedSrcSize: buf.length, chunkSize: zstdChunkSize(buf.length) },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
  const decompress = (buf: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) =>
      zlib.zstdDecompress(buf, (err, out) => (err ? reject(err) : resolve(out))),
    );
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: { buffer: Buffer }) => compress(encoder.buffer),
    decompress: (buffer: Buffer) => decompress(buffer),
  });
  registered = true;
}
