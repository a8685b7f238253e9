/**
 * Workloads that stress one probe group each, as a child process of the bench:
 *   node group-workload.js signal|dns|dns-tcp|tcp-bulk|sched|file <ms> [dnsPort]
 * prints one JSON line {"mode","ops","seconds","opsPerSec"}:
 *   signal — kill(self, SIGUSR2) calls (each generates a signal);
 *   dns    — UDP DNS queries answered by a responder in this process, one in flight;
 *   dns-tcp — the same over one TCP connection (2-byte length prefix), one in flight;
 *   tcp-bulk — 64 KiB writes over a loopback TCP connection to another port (what the dns
 *              programs cost on traffic that is not DNS: every segment passes them);
 *   sched  — wake-ups between two threads (Atomics.wait/notify ping-pong), two context switches each;
 *   file   — 64-byte pread64 calls on a small real file (page cache), one syscall each.
 */
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildDnsMessage } from '../../src/events/dns-message';

const [mode = '', msArg = '1000', portArg = '0'] = process.argv.slice(2);
const ms = Number(msArg);

function report(ops: number, startedNs: bigint): void {
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  process.stdout.write(`${JSON.stringify({ mode, ops, seconds, opsPerSec: ops / seconds })}\n`);
}

async function signals(): Promise<void> {
  process.on('SIGUSR2', () => undefined);
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  let ops = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) process.kill(process.pid, 'SIGUSR2');
    ops += 1000;
    await new Promise((r) => setImmediate(r));
  }
  report(ops, started);
}

async function dns(): Promise<void> {
  const server = createSocket('udp4');
  await new Promise<void>((r) => server.bind(Number(portArg), '127.0.0.1', r));
  const answer = buildDnsMessage({ id: 1, name: 'bench.example', rcode: 0, answers: ['10.0.0.1'] });
  server.on('message', (msg, peer) => {
    msg.copy(answer, 0, 0, 2); // echo the id
    server.send(answer, peer.port, peer.address);
  });
  const client = createSocket('udp4');
  const query = buildDnsMessage({ id: 1, name: 'bench.example' });
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  let ops = 0;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      if (Date.now() >= end) return resolve();
      query.writeUInt16BE(ops & 0xffff, 0);
      client.send(query, Number(portArg), '127.0.0.1');
    };
    client.on('message', () => {
      ops++;
      send();
    });
    send();
  });
  report(ops, started);
  client.close();
  server.close();
}

/** Calls `onMessage` for each length-prefixed message arriving on `sock`. */
function framed(sock: Socket, onMessage: (m: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  sock.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const len = pending.readUInt16BE(0);
      onMessage(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
    }
  });
}

function withPrefix(m: Buffer): Buffer {
  const out = Buffer.alloc(2 + m.length);
  out.writeUInt16BE(m.length, 0);
  m.copy(out, 2);
  return out;
}

async function dnsTcp(): Promise<void> {
  const answer = buildDnsMessage({ id: 1, name: 'bench.example', rcode: 0, answers: ['10.0.0.1'] });
  const server = createServer((s) => {
    s.setNoDelay(true);
    framed(s, (msg) => {
      msg.copy(answer, 0, 0, 2); // echo the id
      s.write(withPrefix(answer));
    });
  });
  await new Promise<void>((r) => server.listen(Number(portArg), '127.0.0.1', r));
  const client = createConnection(Number(portArg), '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((r) => client.once('connect', r));
  const query = withPrefix(buildDnsMessage({ id: 1, name: 'bench.example' }));
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  let ops = 0;
  await new Promise<void>((resolve) => {
    const send = (): void => {
      if (Date.now() >= end) return resolve();
      query.writeUInt16BE(ops & 0xffff, 2);
      client.write(query);
    };
    framed(client, () => {
      ops++;
      send();
    });
    send();
  });
  report(ops, started);
  client.destroy();
  server.close();
}

async function tcpBulk(): Promise<void> {
  const CHUNK = 64 * 1024;
  let received = 0;
  const server = createServer((s) => s.on('data', (c: Buffer) => (received += c.length)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = createConnection((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const chunk = Buffer.alloc(CHUNK, 7);
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (Date.now() < end) if (!client.write(chunk)) return void client.once('drain', pump);
      resolve();
    };
    pump();
  });
  report(received / CHUNK, started);
  client.destroy();
  server.close();
}

async function sched(): Promise<void> {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads'); const a = new Int32Array(workerData);
     for (;;) { Atomics.wait(a, 0, 0); if (Atomics.load(a, 1) === 1) break; Atomics.store(a, 0, 0); Atomics.notify(a, 0); }`,
    { eval: true, workerData: shared.buffer },
  );
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  let ops = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) {
      Atomics.store(shared, 0, 1);
      Atomics.notify(shared, 0);
      while (Atomics.wait(shared, 0, 1, 100) === 'ok' && Atomics.load(shared, 0) === 1);
    }
    ops += 100;
  }
  report(ops, started);
  Atomics.store(shared, 1, 1);
  Atomics.store(shared, 0, 1);
  Atomics.notify(shared, 0);
  await worker.terminate();
}

function file(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-bench-file-'));
  const path = join(dir, 'data');
  writeFileSync(path, Buffer.alloc(64 * 1024, 7));
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(64);
  const started = process.hrtime.bigint();
  const end = Date.now() + ms;
  let ops = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) readSync(fd, buf, 0, 64, (i * 64) % 65536);
    ops += 1000;
  }
  report(ops, started);
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return Promise.resolve();
}

const modes: Record<string, () => Promise<void>> = {
  signal: signals,
  dns,
  'dns-tcp': dnsTcp,
  'tcp-bulk': tcpBulk,
  sched,
  file,
};
const run = modes[mode];
if (run === undefined) {
  process.stderr.write(`group-workload: unknown mode "${mode}" (${Object.keys(modes).join(', ')})\n`);
  process.exit(2);
}
void run();
