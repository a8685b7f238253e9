/**
 * The loopback OTLP/HTTP receiver of bench/otlp-protocols.bench.ts, run as a child process so it
 * does not share the core being measured: POST /v1/traces and /v1/logs read to the end (no
 * decoding) and answered 200 with an empty protobuf body. Sends `{ port }` over IPC once listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

let bytes = 0;
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const ok = req.url === '/v1/traces' || req.url === '/v1/logs';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (m: unknown) => {
  if (m === 'bytes') process.send?.({ bytes });
});
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
});
