import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { validateConfig } from '../../../src/config/load-config';
import { randomBytes } from 'node:crypto';
import {
  registerZstdCodec,
  zstdAvailable,
  zstdChunkSize,
  zstdProblem,
} from '../../../src/sinks/kafka/kafka-zstd-codec';

describe('zstdProblem', () => {
  it('names the key and the value, and what to use instead, on a Node without zstd', () => {
    expect(zstdAvailable({})).toBe(false);
    expect(zstdAvailable({ zstdCompress: () => undefined })).toBe(false);
    const problem = zstdProblem(zstdAvailable({}));
    expect(problem).toContain('sinks.kafka.compression: "zstd"');
    expect(problem).toContain(process.version);
    expect(problem).toContain('use gzip or none');
  });

  it('finds zstd in this Node (>= 22.15), so the default config validates', () => {
    expect(zstdProblem()).toBeNull();
    const kafka = validateConfig({ sinks: { kafka: { enabled: true, brokers: ['127.0.0.1:9092'] } } }).sinks
      .kafka;
    expect(kafka.compression).toBe('zstd');
  });
});

describe('registerZstdCodec', () => {
  it('gives kafkajs a codec that writes zstd frames and reads them back', async () => {
    registerZstdCodec();
    registerZstdCodec();
    const codec = (
      CompressionCodecs[CompressionTypes.ZSTD] as () => {
        compress(e: { buffer: Buffer }): Promise<Buffer>;
        decompress(b: Buffer): Promise<Buffer>;
      }
    )();
    const records = Buffer.from('{"event.name":"tcp.connect"}'.repeat(500));
    const frame = await codec.compress({ buffer: records });
    // The zstd frame magic number (RFC 8878), little-endian.
    expect(frame.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(frame.length).toBeLessThan(records.length / 10);
    expect((await codec.decompress(frame)).equals(records)).toBe(true);
  });

  it('round-trips a batch that compresses to many output chunks (incompressible bytes), and sizes chunks to the batch', async () => {
    registerZstdCodec();
    const codec = (
      CompressionCodecs[CompressionTypes.ZSTD] as () => {
        compress(e: { buffer: Buffer }): Promise<Buffer>;
        decompress(b: Buffer): Promise<Buffer>;
      }
    )();
    const batch = randomBytes(3 * 1024 * 1024);
    const frame = await codec.compress({ buffer: batch });
    expect(frame.length).toBeGreaterThan(4 * zstdChunkSize(batch.length));
    expect((await codec.decompress(frame)).equals(batch)).toBe(true);
    expect([zstdChunkSize(1000), zstdChunkSize(880_000), zstdChunkSize(10 << 20)]).toEqual([
      16 * 1024,
      110_000,
      256 * 1024,
    ]);
  });
});
