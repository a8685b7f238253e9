import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { PermanentError, RetryableError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { PODTRACE_SCOPE } from '../spans/instrumentation-scope';
import type { OtlpCompression, OtlpTlsConfig } from './otlp-config';
import type { ExportOutcome } from './otlp-grpc-client';
import { readPem } from './otlp-grpc-client';
import type { SendFailure } from '../exporter/send-outcome';
import type { HttpExportOutcome } from './otlp-http-classify';
import { classifyHttpFailure, classifyHttpResponse } from './otlp-http-classify';
import type { OtlpTarget } from './otlp-target';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Response bodies read at most (a partial success or a google.rpc.Status is a few hundred bytes). */
export const MAX_OTLP_HTTP_RESPONSE_BYTES = 64 * 1024;
/** Distinct rejection messages logged (each once); later ones are only counted. */
const MAX_LOGGED_MESSAGES = 64;

export interface OtlpHttpClientOptions {
  /** A resolved `http/protobuf` target (its `url` is where requests go). */
  target: OtlpTarget;
  tls: OtlpTlsConfig;
  compression: OtlpCompression;
  /** Keep-alive connections per endpoint: one per export in flight. */
  maxSockets: number;
  logger: Logger;
}

/** The classification travels as the error's cause (httpSendFailure reads it back). */
function failureError(f: SendFailure): Error {
  if (f.kind === 'retry') return new RetryableError(f.message, { cause: f, retryAfterMs: f.delayMs });
  return new PermanentError(f.message, f);
}

function timeoutError(ms: number): Error {
  const err = new Error(`no response within ${ms} ms`);
  err.name = 'TimeoutError';
  return err;
}

/**
 * OTLP/HTTP with protobuf bodies for one signal's URL: POSTs pre-encoded Export*ServiceRequest
 * bytes (gzip-compressed when configured) over a keep-alive agent (TLS with the configured CA and
 * client certificate) and classifies the answer (see otlp-http-classify.ts). `export()` resolves
 * with the partial-success detail or rejects with a RetryableError (with the server's Retry-After)
 * or a PermanentError (413 too large included), the SendFailure as its cause.
 */
export class OtlpHttpClient {
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly request: typeof http.request;
  private readonly headers: Record<string, string>;
  private readonly logged = new Set<string>();

  constructor(private readonly options: OtlpHttpClientOptions) {
    const { target } = options;
    if (target.url === null) throw new TypeError(`OtlpHttpClient needs an http/protobuf target`);
    this.url = new URL(target.url);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    if (target.secure) {
      const ca = readPem(options.tls.ca, 'ca');
      const cert = readPem(options.tls.cert, 'cert');
      const key = readPem(options.tls.key, 'key');
      this.agent = new https.Agent({
        ...agentOptions,
        ...(ca !== null ? { ca } : {}),
        ...(cert !== null ? { cert } : {}),
        ...(key !== null ? { key } : {}),
      });
      this.request = https.request;
    } else {
      this.agent = new http.Agent(agentOptions);
      this.request = http.request;
    }
    this.headers = {
      'user-agent': `${PODTRACE_SCOPE.name}/${PODTRACE_SCOPE.version}`,
      ...target.headers,
      'content-type': 'application/x-protobuf',
    };
    if (options.compression === 'gzip') this.headers['content-encoding'] = 'gzip';
  }

  get endpoint(): string {
    return this.url.href;
  }

  /** Sends one encoded request body; see the class comment for the outcomes. */
  async export(body: Buffer, timeoutMs: number): Promise<ExportOutcome> {
    const payload = this.options.compression === 'gzip' ? await gzipAsync(body) : body;
    const result = await this.post(payload, timeoutMs);
    if (result.kind === 'ok') return result.outcome;
    if (result.kind === 'permanent' || result.kind === 'too_large') this.logOnce(result);
    throw failureError(result);
  }

  close(): void {
    this.agent.destroy();
  }

  private logOnce(f: SendFailure): void {
    if (this.logged.has(f.message) || this.logged.size >= MAX_LOGGED_MESSAGES) return;
    this.logged.add(f.message);
    this.options.logger.warn({ endpoint: this.url.href, code: f.code, hint: f.hint }, f.message);
  }

  private post(payload: Buffer, timeoutMs: number): Promise<HttpExportOutcome> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: HttpExportOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const req = this.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'content-length': String(payload.length) },
      });
      const timer = setTimeout(() => req.destroy(timeoutError(timeoutMs)), timeoutMs);
      req.on('error', (err) => finish(classifyHttpFailure(err)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          // Past the cap the rest is read and discarded, so the connection stays reusable.
          if (size >= MAX_OTLP_HTTP_RESPONSE_BYTES) return;
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('error', (err) => finish(classifyHttpFailure(err)));
        res.on('end', () => {
          void this.bodyOf(res.headers, Buffer.concat(chunks)).then((bytes) =>
            finish(classifyHttpResponse(res.statusCode ?? 0, res.headers, bytes, Date.now())),
          );
        });
      });
      req.end(payload);
    });
  }

  private async bodyOf(headers: http.IncomingHttpHeaders, raw: Buffer): Promise<Buffer> {
    if (headers['content-encoding'] !== 'gzip' || raw.length === 0) return raw;
    try {
      return await gunzipAsync(raw, { maxOutputLength: MAX_OTLP_HTTP_RESPONSE_BYTES });
    } catch {
      return Buffer.alloc(0);
    }
  }
}
