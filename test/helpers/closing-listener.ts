import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';

/** A loopback TCP server that reads and closes every connection, counting them: a peer for workloads to connect to. */
export class ClosingListener {
  readonly server: Server;
  connections = 0;
  private bound = 0;

  constructor() {
    this.server = createServer((s) => {
      this.connections++;
      s.resume();
      s.on('error', () => undefined);
      s.end();
    });
  }

  get port(): number {
    return this.bound;
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.bound = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop(): Promise<void> {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}
