import { createOtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import type { OtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { SEMCONV_SCHEMA_URL } from '../../../src/sinks/spans/semconv-schema';
import { Metrics } from '../../../src/telemetry/metrics';
import {
  WALL_CLOCK_OFFSET_NS,
  batch,
  processExec,
  processExit,
  tcpConnect,
  tcpVolumeBatch,
  workloadMeta,
} from '../../helpers/events';
import { OtlpHttpReceiver } from '../../helpers/otlp-http-receiver';
import { waitUntil } from '../../helpers/wait-until';
import { counterValue, eventually, otlpConfig, otlpSinkDeps } from './otlp-test-support';

const SEC = 1_000_000_000;
const FAST_RETRY = { initialBackoffMs: 10, maxBackoffMs: 40, maxElapsedMs: 5000 };

const open: OtlpSink[] = [];
const receivers: OtlpHttpReceiver[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.shutdown()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function receiver(): Promise<OtlpHttpReceiver> {
  const r = new OtlpHttpReceiver();
  await r.start(0);
  receivers.push(r);
  return r;
}

function sinkFor(
  section: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  shutdownTimeoutMs = 10_000,
): { sink: OtlpSink; metrics: Metrics } {
  const metrics = new Metrics();
  const sink = createOtlpSink(
    otlpConfig({ batch: { maxDelayMs: 20 }, retry: FAST_RETRY, ...section }),
    otlpSinkDeps(metrics, { env, shutdownTimeoutMs }),
  );
  open.push(sink);
  return { sink, metrics };
}

const httpEnv = (r: OtlpHttpReceiver): NodeJS.ProcessEnv => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: r.baseUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
});

describe('OtlpSink over OTLP/HTTP', () => {
  it('counts what a receiver that is down at shutdown never got, and shuts down by the deadline', async () => {
    const r = await receiver();
    const env = httpEnv(r);
    await r.stop();
    const { sink, metrics } = sinkFor({}, env, 300);
    await sink.start();
    sink.consume(tcpVolumeBatch(40, workloadMeta()));
    // A refused attempt first (on a loaded machine the 300 ms deadline can pass before any attempt).
    await waitUntil(
      'a refused export',
      async () => (await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'ECONNREFUSED' })) > 0,
    );
    await sink.shutdown();
    expect(await metrics.droppedCount('otlp', 'shutdown_timeout')).toBe(40);
  });

  it('delivers traces to /v1/traces with nothing but OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL set', async () => {
    const r = await receiver();
    const { sink, metrics } = sinkFor({}, httpEnv(r));
    await sink.start();
    sink.consume(tcpVolumeBatch(100, workloadMeta()));
    await r.waitFor(() => r.spans.length >= 100);
    expect(r.requests.every((q) => q.path === '/v1/traces')).toBe(true);
    expect(r.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(r.spans[0]!.resource['k8s.pod.name']).toBeDefined();
    expect(r.requests[0]!.body.resourceSpans[0].schemaUrl).toBe(SEMCONV_SCHEMA_URL);
    await sink.shutdown();
    expect(await counterValue(metrics.sinkExported, { sink: 'otlp' })).toBe(100);
    expect(await metrics.droppedCount('otlp')).toBe(0);
  });

  it('retries 503 and 429 (honouring Retry-After) until the receiver takes the spans', async () => {
    const r = await receiver();
    r.failNext(2, 503);
    r.failNext(1, 429, { retryAfter: '1' });
    const { sink, metrics } = sinkFor({}, httpEnv(r));
    await sink.start();
    const t0 = Date.now();
    sink.consume(tcpVolumeBatch(20, workloadMeta()));
    await r.waitFor(() => r.spans.length >= 20);
    // The 429 asked for one second; the 503s only the 10-40 ms backoff.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(r.calls).toBe(4);
    expect(await counterValue(metrics.sinkRetried, { sink: 'otlp' })).toBe(3);
    expect(await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'http_503' })).toBe(2);
    expect(await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'http_429' })).toBe(1);
    expect(await metrics.droppedCount('otlp')).toBe(0);
  });

  it('splits a request the receiver finds too large (413) and delivers both halves', async () => {
    const r = await receiver();
    r.failNext(1, 413);
    const { sink, metrics } = sinkFor({ batch: { maxSpans: 64, maxDelayMs: 20 } }, httpEnv(r));
    await sink.start();
    sink.consume(tcpVolumeBatch(64, workloadMeta()));
    await r.waitFor(() => r.spans.length >= 64);
    const perRequest = r.requests.map((q) => q.body.resourceSpans[0].scopeSpans[0].spans.length as number);
    expect(perRequest).toEqual([32, 32]);
    expect(await metrics.droppedCount('otlp')).toBe(0);
  });

  it('counts spans rejected in a partial success, and drops a 400 as permanent', async () => {
    const r = await receiver();
    r.partialSuccessNext(3, 'too old');
    const { sink, metrics } = sinkFor({}, httpEnv(r));
    await sink.start();
    sink.consume(tcpVolumeBatch(10, workloadMeta()));
    await eventually(async () => (await metrics.droppedCount('otlp', 'rejected_by_server')) === 3);
    expect(await counterValue(metrics.sinkExported, { sink: 'otlp' })).toBe(7);
    r.failNext(1, 400, { statusMessage: 'bad span' });
    sink.consume(tcpVolumeBatch(6, workloadMeta()));
    await eventually(async () => (await metrics.droppedCount('otlp', 'permanent_error')) === 6);
  });
});

describe('OtlpSink with signals [traces, logs]', () => {
  it('keeps delivering spans while the logs endpoint fails, and delivers the logs once it recovers', async () => {
    const r = await receiver();
    r.failNext(3, 503, { path: '/v1/logs' });
    const { sink, metrics } = sinkFor({ signals: ['traces', 'logs'] }, httpEnv(r));
    await sink.start();
    sink.consume(tcpVolumeBatch(30, workloadMeta()));
    await r.waitFor(() => r.spans.length >= 30 && r.logs.length >= 30);
    expect(await counterValue(metrics.sinkFailed, { sink: 'otlp_logs', reason: 'http_503' })).toBe(3);
    expect(await counterValue(metrics.sinkFailed, { sink: 'otlp' })).toBe(0);
    await sink.shutdown();
    expect(await counterValue(metrics.sinkExported, { sink: 'otlp' })).toBe(30);
    expect(await counterValue(metrics.sinkExported, { sink: 'otlp_logs' })).toBe(30);
  });

  it('sends one log record per event to /v1/logs, linked to the process spans on /v1/traces', async () => {
    const r = await receiver();
    const { sink } = sinkFor({ signals: ['traces', 'logs'] }, httpEnv(r));
    await sink.start();
    const meta = workloadMeta();
    const app = { pid: 300, procStartNs: 50 * SEC, comm: 'app', meta };
    sink.consume(
      batch(
        processExec({ ...app, at: app.procStartNs + 10, ppid: 1, parentStartNs: 0 }),
        tcpConnect({ ...app, at: app.procStartNs + 20, error: 'ECONNREFUSED' }),
        processExit({ ...app, at: app.procStartNs + 2 * SEC, exitCode: 1 }),
      ),
    );
    await r.waitFor(() => r.logs.length >= 3 && r.spans.length >= 2);
    const process = r.spans.find((s) => s.name === 'process')!;
    expect(r.logs.map((l) => [l.eventName, l.severityText])).toEqual([
      ['podtrace.process.exec', 'INFO'],
      ['podtrace.tcp.connect', 'WARN'],
      ['podtrace.process.exit', 'WARN'],
    ]);
    for (const l of r.logs) {
      expect(l.traceId).toBe(process.traceId);
      expect(l.spanId).toBe(process.spanId);
      expect(l.resource['service.name']).toBe(process.resource['service.name']);
      expect(l.resourceSchemaUrl).toBe(SEMCONV_SCHEMA_URL);
      expect(l.body).toBeNull();
    }
    expect(r.logs[1]!.timeUnixNano).toBe(BigInt(WALL_CLOCK_OFFSET_NS + app.procStartNs + 20));
    expect(r.logs[1]!.attributes['error.type']).toBe('ECONNREFUSED');
  });

  it('exports log records without trace context when only logs are wanted', async () => {
    const r = await receiver();
    const { sink } = sinkFor({ signals: ['logs'] }, httpEnv(r));
    await sink.start();
    sink.consume(tcpVolumeBatch(4, workloadMeta()));
    await r.waitFor(() => r.logs.length >= 4);
    expect(r.spans).toHaveLength(0);
    expect(r.requests.every((q) => q.path === '/v1/logs')).toBe(true);
    expect(r.logs.every((l) => l.traceId === '' && l.spanId === '')).toBe(true);
  });
});
