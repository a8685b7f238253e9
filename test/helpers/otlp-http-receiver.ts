/* eslint-disable @typescript-eslint/no-explicit-any -- protobufjs hands out untyped decoded objects */
/**
 * A real OTLP/HTTP receiver for tests: node:http (or https) serving POST /v1/traces and /v1/logs
 * (and any other path it is told to), decoding every body with the official proto field numbers
 * (test/helpers/proto via otlp-decode.ts), gzip or not as the request says. It can answer with a
 * status of choice (429/503 with Retry-After, 413, 400 with a google.rpc.Status body) and with
 * partial success. Listens on 127.0.0.1 with an ephemeral port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ReceivedLogRecord } from './otlp-decode';
import {
  LogsResponse,
  RpcStatus,
  TraceResponse,
  decodeLogsRequest,
  decodeTraceRequest,
  flattenLogsRequest,
} from './otlp-decode';
import type { ReceivedSpan } from './otlp-receiver';
import { flattenRequest } from './otlp-receiver';

export interface ReceivedHttpRequest {
  path: string;
  headers: IncomingMessage['headers'];
  /** The body as sent (compressed when content-encoding says so). */
  wireBytes: number;
  /** The decoded Export*ServiceRequest. */
  body: any;
}

interface Answer {
  /** Only requests to this path (default: any). */
  path?: string;
  status: number;
  retryAfter?: string;
  /** google.rpc.Status message (written as the protobuf body). */
  statusMessage?: string;
}

export class OtlpHttpReceiver {
  readonly requests: ReceivedHttpRequest[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly logs: ReceivedLogRecord[] = [];
  /** Requests answered, failed ones included. */
  calls = 0;
  /** Paths that took traces / logs (default /v1/traces, /v1/logs). */
  tracesPath = '/v1/traces';
  logsPath = '/v1/logs';
  private server: http.Server | null = null;
  private boundPort = 0;
  private answers: Answer[] = [];
  private partial: { rejected: number; message: string }[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  /** `tls.clientCa`: client certificates signed by it are required (mutual TLS). */
  constructor(private readonly tls?: { key: Buffer; cert: Buffer; clientCa?: Buffer }) {}

  get port(): number {
    return this.boundPort;
  }

  /** `http(s)://127.0.0.1:<port>` */
  get baseUrl(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.boundPort}`;
  }

  async start(port = this.boundPort): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.onRequest(req, res);
    const tls = this.tls;
    const server = tls
      ? https.createServer(
          tls.clientCa === undefined
            ? { key: tls.key, cert: tls.cert }
            : { key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true },
          handler,
        )
      : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops at once, cutting keep-alive connections (a receiver that went down). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `n` requests are answered with `status` (and Retry-After / a google.rpc.Status body). */
  failNext(
    n: number,
    status: number,
    options: { retryAfter?: string; statusMessage?: string; path?: string } = {},
  ): void {
    for (let i = 0; i < n; i++) this.answers.push({ status, ...options });
  }

  /** The next successful request reports partial success: `rejected` items rejected. */
  partialSuccessNext(rejected: number, message: string): void {
    this.partial.push({ rejected, message });
  }

  /** Resolves once `check` holds (rejects after `guardMs`, a hang guard, so a broken test ends). */
  waitFor(check: () => boolean, guardMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `receiver: condition not reached (${this.spans.length} spans, ${this.logs.length} logs)`,
            ),
          ),
        guardMs,
      );
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.calls++;
      const path = req.url ?? '';
      const signal = path === this.tracesPath ? 'traces' : path === this.logsPath ? 'logs' : null;
      if (req.method !== 'POST' || signal === null) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const at = this.answers.findIndex((a) => a.path === undefined || a.path === path);
      const answer = at < 0 ? undefined : this.answers.splice(at, 1)[0];
      if (answer !== undefined) {
        const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
        if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
        const body =
          answer.statusMessage === undefined
            ? Buffer.alloc(0)
            : Buffer.from(RpcStatus.encode({ code: 3, message: answer.statusMessage }).finish());
        res.writeHead(answer.status, headers).end(body);
        return;
      }
      const wire = Buffer.concat(chunks);
      const bytes = req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
      const body = signal === 'traces' ? decodeTraceRequest(bytes) : decodeLogsRequest(bytes);
      this.requests.push({ path, headers: req.headers, wireBytes: wire.length, body });
      if (signal === 'traces') this.spans.push(...flattenRequest(body));
      else this.logs.push(...flattenLogsRequest(body));
      const partial = this.partial.shift();
      const Response = signal === 'traces' ? TraceResponse : LogsResponse;
      const reply = partial
        ? Response.encode({
            partialSuccess:
              signal === 'traces'
                ? { rejectedSpans: partial.rejected, errorMessage: partial.message }
                : { rejectedLogRecords: partial.rejected, errorMessage: partial.message },
          }).finish()
        : Response.encode({}).finish();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(reply));
      this.waiters = this.waiters.filter((w) => {
        if (!w.check()) return true;
        w.resolve();
        return false;
      });
    });
  }
}
