import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PermanentError, RetryableError, retryDelayOf } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/logger';
import { OtlpHttpClient } from '../../../src/sinks/otlp/otlp-http-client';
import { httpSendFailure, parseRetryAfter } from '../../../src/sinks/otlp/otlp-http-classify';
import { resolveOtlpTarget } from '../../../src/sinks/otlp/otlp-target';
import type { OtlpSignal } from '../../../src/sinks/otlp/otlp-signal';
import { encodeExportLogsServiceRequest } from '../../../src/sinks/spans/encode-logs-request';
import { encodeExportTraceServiceRequest } from '../../../src/sinks/spans/encode-trace-request';
import { groupByResource, groupLogsByResource } from '../../../src/sinks/spans/resource-spans';
import { SpanMapper } from '../../../src/sinks/spans/span-mapper';
import type { SpanData } from '../../../src/sinks/spans/span-model';
import type { LogRecordData } from '../../../src/sinks/spans/log-model';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import { TEST_BOOT_ID, tcpVolumeBatch, workloadMeta } from '../../helpers/events';
import { OtlpHttpReceiver } from '../../helpers/otlp-http-receiver';
import { describeIf } from '../../helpers/prereq';
import type { TestCa } from '../../helpers/test-ca';
import { makeTestCa, opensslMissing } from '../../helpers/test-ca';
import { captureLogger, otlpConfig } from './otlp-test-support';

const receivers: OtlpHttpReceiver[] = [];
const clients: OtlpHttpClient[] = [];
const servers: http.Server[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function receiver(): Promise<OtlpHttpReceiver> {
  const r = new OtlpHttpReceiver();
  await r.start(0);
  receivers.push(r);
  return r;
}

function client(
  base: string,
  signal: OtlpSignal = 'traces',
  section: Record<string, unknown> = {},
  logger = silentLogger(),
): OtlpHttpClient {
  const config = otlpConfig({ protocol: 'http/protobuf', endpoint: base, ...section });
  const c = new OtlpHttpClient({
    target: resolveOtlpTarget(config, {}, signal),
    tls: config.tls,
    compression: config.compression,
    maxSockets: 2,
    logger,
  });
  clients.push(c);
  return c;
}

function mapped(n: number): { spans: SpanData[]; logs: LogRecordData[] } {
  const m = new SpanMapper({
    bootId: TEST_BOOT_ID,
    resources: new SpanResources({ hostName: 'node-a.example', nodeName: 'node-a' }),
  });
  const spans: SpanData[] = [];
  const logs: LogRecordData[] = [];
  m.map(tcpVolumeBatch(n, workloadMeta()), { spans, logs });
  return { spans, logs };
}

const traceBody = (n = 4): Buffer => encodeExportTraceServiceRequest(groupByResource(mapped(n).spans));
const logsBody = (n = 4): Buffer => encodeExportLogsServiceRequest(groupLogsByResource(mapped(n).logs));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the export to fail');
}

describe('OtlpHttpClient', () => {
  describe('.export', () => {
    it('fails retryably, unbounded, when nothing listens (refused)', async () => {
      const r = await receiver();
      const base = r.baseUrl;
      await r.stop();
      const err = await rejection(client(base).export(traceBody(), 2000));
      expect(err).toBeInstanceOf(RetryableError);
      expect(httpSendFailure(err)).toMatchObject({ kind: 'retry', code: 'ECONNREFUSED', bounded: false });
    });

    it('gives up on a receiver that accepts the connection but never answers, retryably', async () => {
      const silent = http.createServer(() => undefined);
      servers.push(silent);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const port = (silent.address() as AddressInfo).port;
      const err = await rejection(client(`http://127.0.0.1:${port}`).export(traceBody(), 200));
      expect(err).toBeInstanceOf(RetryableError);
      expect(httpSendFailure(err)).toMatchObject({ kind: 'retry', code: 'timeout' });
    });

    it('retries 429 and 503 after the Retry-After the receiver asked for (seconds or HTTP-date), 502/504 on the backoff', async () => {
      const r = await receiver();
      const c = client(r.baseUrl);
      r.failNext(1, 429, { retryAfter: '2' });
      const tooMany = await rejection(c.export(traceBody(), 2000));
      expect(tooMany).toBeInstanceOf(RetryableError);
      expect(retryDelayOf(tooMany)).toBe(2000);
      expect(httpSendFailure(tooMany).code).toBe('http_429');

      r.failNext(1, 503, { retryAfter: new Date(Date.now() + 30_000).toUTCString() });
      const unavailable = await rejection(c.export(traceBody(), 2000));
      expect(unavailable).toBeInstanceOf(RetryableError);
      // An HTTP-date has one-second resolution: 29-30 s from now.
      expect(retryDelayOf(unavailable)).toBeGreaterThan(28_000);
      expect(retryDelayOf(unavailable)).toBeLessThanOrEqual(30_000);

      for (const status of [502, 504]) {
        r.failNext(1, status);
        const err = await rejection(c.export(traceBody(), 2000));
        expect(err).toBeInstanceOf(RetryableError);
        expect(retryDelayOf(err)).toBeUndefined();
      }
      expect(r.spans).toHaveLength(0);
      await c.export(traceBody(), 2000);
      expect(r.spans.length).toBeGreaterThan(0);
    });

    it('says a 413 request is too large (split it), and every other 4xx and 5xx is permanent', async () => {
      const r = await receiver();
      const c = client(r.baseUrl);
      r.failNext(1, 413);
      const tooLarge = await rejection(c.export(traceBody(), 2000));
      expect(tooLarge).toBeInstanceOf(PermanentError);
      expect(httpSendFailure(tooLarge).kind).toBe('too_large');
      for (const status of [401, 403, 404, 409, 500]) {
        r.failNext(1, status);
        const err = await rejection(c.export(traceBody(), 2000));
        expect(err).toBeInstanceOf(PermanentError);
        expect(httpSendFailure(err)).toMatchObject({ kind: 'permanent', code: `http_${status}` });
      }
    });

    it('reads the google.rpc.Status message of a 400 and logs it once', async () => {
      const r = await receiver();
      const { logger, lines } = captureLogger();
      const c = client(r.baseUrl, 'traces', {}, logger);
      r.failNext(3, 400, { statusMessage: 'span 3: trace_id is all zeros' });
      for (let i = 0; i < 3; i++) {
        const err = await rejection(c.export(traceBody(), 2000));
        expect(err).toBeInstanceOf(PermanentError);
        expect((err as Error).message).toBe('OTLP/HTTP export failed: 400: span 3: trace_id is all zeros');
      }
      expect(
        lines.filter((l) => l.msg === 'OTLP/HTTP export failed: 400: span 3: trace_id is all zeros'),
      ).toHaveLength(1);
    });

    it('reads partial success of traces (rejected_spans) and logs (rejected_log_records)', async () => {
      const r = await receiver();
      r.partialSuccessNext(3, 'spans too old');
      expect(await client(r.baseUrl, 'traces').export(traceBody(), 2000)).toEqual({
        rejectedSpans: 3,
        errorMessage: 'spans too old',
      });
      r.partialSuccessNext(2, 'unknown tenant');
      expect(await client(r.baseUrl, 'logs').export(logsBody(), 2000)).toEqual({
        rejectedSpans: 2,
        errorMessage: 'unknown tenant',
      });
      expect(await client(r.baseUrl, 'logs').export(logsBody(), 2000)).toEqual({
        rejectedSpans: 0,
        errorMessage: '',
      });
    });

    it('POSTs gzip-compressed protobuf with the configured headers to /v1/traces and /v1/logs over one kept-alive connection', async () => {
      const r = await receiver();
      const connections: number[] = [];
      // Count TCP connections the receiver accepted.
      (r as unknown as { server: http.Server }).server.on('connection', () => connections.push(1));
      const headers = { 'X-Tenant': 'shop', authorization: 'Bearer t0ken' };
      const traces = client(r.baseUrl, 'traces', { headers });
      const body = traceBody(50);
      await traces.export(body, 2000);
      await traces.export(body, 2000);
      const logs = client(r.baseUrl, 'logs', { compression: 'none' });
      await logs.export(logsBody(8), 2000);
      expect(r.requests.map((q) => q.path)).toEqual(['/v1/traces', '/v1/traces', '/v1/logs']);
      const first = r.requests[0]!;
      expect(first.headers['content-type']).toBe('application/x-protobuf');
      expect(first.headers['content-encoding']).toBe('gzip');
      expect(first.headers['x-tenant']).toBe('shop');
      expect(first.headers.authorization).toBe('Bearer t0ken');
      expect(first.headers['user-agent']).toMatch(/^podtrace\//);
      expect(first.wireBytes).toBeLessThan(body.length);
      expect(r.requests[2]!.headers['content-encoding']).toBeUndefined();
      expect(r.spans).toHaveLength(100);
      expect(r.logs).toHaveLength(8);
      expect(r.logs[0]!.eventName).toMatch(/^podtrace\.tcp\./);
      // Two sequential trace exports share the keep-alive connection; logs use their own client.
      expect(connections).toHaveLength(2);
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates, ignores what is neither', () => {
    const now = Date.parse('Tue, 01 Dec 2026 08:00:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 08:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describeIf(opensslMissing())('OtlpHttpClient over TLS', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = makeTestCa();
  });
  afterAll(() => ca.remove());

  async function tlsReceiver(): Promise<OtlpHttpReceiver> {
    const r = new OtlpHttpReceiver({
      key: readFileSync(ca.file('server.key')),
      cert: readFileSync(ca.file('server.crt')),
      clientCa: readFileSync(ca.file('ca.crt')),
    });
    await r.start(0);
    receivers.push(r);
    return r;
  }

  it('fails, retryably, against a receiver no configured CA signed and one that wants a client certificate it did not get', async () => {
    const r = await tlsReceiver();
    const err = await rejection(client(r.baseUrl).export(traceBody(), 2000));
    expect(err).toBeInstanceOf(RetryableError);
    // The CA is right but no client certificate: the receiver (mutual TLS) refuses.
    const noCert = await rejection(
      client(r.baseUrl, 'traces', { tls: { ca: ca.file('ca.crt') } }).export(traceBody(), 2000),
    );
    expect(noCert).toBeInstanceOf(RetryableError);
    expect(r.requests).toHaveLength(0);
  });

  it('exports over https to a receiver the configured CA signed, with a client certificate', async () => {
    const r = await tlsReceiver();
    const c = client(r.baseUrl, 'logs', {
      tls: { ca: ca.file('ca.crt'), cert: ca.file('client.crt'), key: ca.file('client.key') },
    });
    await c.export(logsBody(3), 2000);
    expect(r.logs).toHaveLength(3);
    expect(r.requests[0]!.path).toBe('/v1/logs');
  });
});
