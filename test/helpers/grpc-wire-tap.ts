/**
 * A loopback TCP proxy in front of a plain-text gRPC server that reads the client's HTTP/2
 * frames as they cross the wire and records, for every request stream, whether its first gRPC
 * message has the compressed flag set (byte 0 of the 5-byte gRPC message prefix), plus the
 * DATA bytes sent. Proves what compression is actually used on the wire.
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

const PREFACE_LENGTH = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const FRAME_HEADER = 9;
const TYPE_DATA = 0;
const FLAG_PADDED = 0x8;

export class GrpcWireTap {
  /** Per request stream: the compressed flag of its first message. */
  readonly messages: { streamId: number; compressed: boolean }[] = [];
  dataBytes = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly targetPort: number) {}

  async start(): Promise<string> {
    const server = createServer((client) => this.onConnection(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private onConnection(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let pending = Buffer.alloc(0);
    let prefaceSeen = false;
    const seenStreams = new Set<number>();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      if (!prefaceSeen) {
        if (pending.length < PREFACE_LENGTH) return;
        pending = pending.subarray(PREFACE_LENGTH);
        prefaceSeen = true;
      }
      while (pending.length >= FRAME_HEADER) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < FRAME_HEADER + length) break;
        const type = pending[3];
        const flags = pending[4] as number;
        const streamId = pending.readUInt32BE(5) & 0x7fffffff;
        let payload = pending.subarray(FRAME_HEADER, FRAME_HEADER + length);
        if (type === TYPE_DATA) {
          if (flags & FLAG_PADDED) payload = payload.subarray(1, payload.length - (payload[0] as number));
          this.dataBytes += payload.length;
          if (!seenStreams.has(streamId) && payload.length > 0) {
            seenStreams.add(streamId);
            this.messages.push({ streamId, compressed: payload[0] === 1 });
          }
        }
        pending = pending.subarray(FRAME_HEADER + length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
