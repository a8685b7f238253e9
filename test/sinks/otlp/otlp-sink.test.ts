import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { silentLogger } from '../../../src/core/logger';
import { OTLP_SPAN_OVERHEAD_BYTES } from '../../../src/sinks/otlp/otlp-config';
import { createOtlpSink, encodedItemBytes } from '../../../src/sinks/otlp/otlp-sink';
import type { OtlpSink } from '../../../src/sinks/otlp/otlp-sink';
import { SPAN_NAMES, SpanMapper } from '../../../src/sinks/spans/span-mapper';
import { SpanResources } from '../../../src/sinks/spans/span-resources';
import { toEncodedSpan } from '../../../src/sinks/spans/encode-trace-request';
import { Metrics } from '../../../src/telemetry/metrics';
import {
  TEST_BOOT_ID,
  WALL_CLOCK_OFFSET_NS,
  batch,
  hostMeta,
  oomKill,
  processExec,
  processExit,
  processFork,
  tcpAccept,
  tcpClose,
  tcpConnect,
  tcpRetransmit,
  tcpVolumeBatch,
  workloadMeta,
} from '../../helpers/events';
import { GrpcWireTap } from '../../helpers/grpc-wire-tap';
import { OtlpReceiver, attributeMap } from '../../helpers/otlp-receiver';
import { makeTestCa, opensslMissing } from '../../helpers/test-ca';
import type { TestCa } from '../../helpers/test-ca';
import { describeIf } from '../../helpers/prereq';
import { captureLogger, counterValue, eventually, otlpConfig, otlpSinkDeps } from './otlp-test-support';

const SEC = 1_000_000_000;
const FAST_RETRY = { initialBackoffMs: 10, maxBackoffMs: 40, maxElapsedMs: 5000 };

interface Harness {
  sink: OtlpSink;
  metrics: Metrics;
}

const open: OtlpSink[] = [];
const receivers: OtlpReceiver[] = [];

async function receiver(
  tls?: ConstructorParameters<typeof OtlpReceiver>[0],
  options?: ConstructorParameters<typeof OtlpReceiver>[1],
): Promise<OtlpReceiver> {
  const r = new OtlpReceiver(tls, options);
  await r.start(0);
  receivers.push(r);
  return r;
}

function sinkFor(
  section: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  logger = silentLogger(),
): Harness {
  const metrics = new Metrics();
  const sink = createOtlpSink(
    otlpConfig({ batch: { maxDelayMs: 20 }, retry: FAST_RETRY, ...section }),
    otlpSinkDeps(metrics, { env, logger }),
  );
  open.push(sink);
  return { sink, metrics };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.shutdown()));
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

describe('OtlpSink', () => {
  describe('.shutdown', () => {
    it('is safe without start() and idempotent', async () => {
      const r = await receiver();
      const { sink } = sinkFor({ endpoint: `http://${r.address}` });
      await sink.shutdown();
      await sink.shutdown();
      expect(r.calls).toBe(0);
    });

    it('delivers every queued span before it resolves', async () => {
      const r = await receiver();
      const { sink, metrics } = sinkFor({
        endpoint: `http://${r.address}`,
        batch: { maxSpans: 2048, maxDelayMs: 60_000 },
      });
      await sink.start();
      sink.consume(tcpVolumeBatch(300, workloadMeta()));
      expect(r.calls).toBe(0); // the 60 s batch delay holds them
      await sink.shutdown();
      await sink.shutdown();
      expect(r.spans).toHaveLength(300);
      expect(await counterValue(metrics.sinkExported, { sink: 'otlp' })).toBe(300);
      expect(await metrics.droppedCount('otlp')).toBe(0);
    });

    it('counts batches it cannot deliver before its deadline as shutdown_timeout', async () => {
      const r = await receiver();
      await r.stop();
      const metrics = new Metrics();
      const sink = createOtlpSink(
        otlpConfig({
          endpoint: `http://${r.address}`,
          retry: { initialBackoffMs: 20, maxBackoffMs: 50, maxElapsedMs: 600_000 },
        }),
        {
          logger: silentLogger(),
          metrics,
          env: {},
          nodeName: 'n',
          bootId: TEST_BOOT_ID,
          shutdownTimeoutMs: 300,
        },
      );
      await sink.start();
      sink.consume(tcpVolumeBatch(40, workloadMeta()));
      await sink.shutdown();
      expect(await metrics.droppedCount('otlp', 'shutdown_timeout')).toBe(40);
      sink.consume(tcpVolumeBatch(3, workloadMeta()));
      expect(await metrics.droppedCount('otlp', 'after_shutdown')).toBe(3);
    });
  });

  describe('.consume', () => {
    it('delivers spans under their container and host resources with semantic-convention attributes', async () => {
      const r = await receiver();
      const env = { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=pay%20ments' };
      const { sink } = sinkFor({ endpoint: `http://${r.address}` }, env);
      await sink.start();
      const checkout = workloadMeta({
        namespace: 'shop',
        deployment: 'checkout',
        labels: { app: 'checkout' },
      });
      const host = hostMeta();
      const t = 5000 * SEC;
      sink.consume(
        batch(
          tcpConnect({
            pid: 4100,
            procStartNs: 100 * SEC,
            at: t,
            comm: 'checkout',
            meta: checkout,
            latencyNs: 300_000,
          }),
          tcpConnect({
            pid: 4100,
            procStartNs: 100 * SEC,
            at: t + 10,
            comm: 'checkout',
            meta: checkout,
            error: 'ECONNREFUSED',
            remotePort: 6379,
          }),
          tcpAccept({
            pid: 4100,
            procStartNs: 100 * SEC,
            at: t + 20,
            comm: 'checkout',
            meta: checkout,
            remoteAddr: '10.244.2.9',
            remotePort: 51000,
            localPort: 8080,
          }),
          tcpRetransmit({ pid: 812, procStartNs: 3 * SEC, at: t + 30, comm: 'kubelet', meta: host }),
          oomKill({
            pid: 4100,
            procStartNs: 100 * SEC,
            at: t + 40,
            comm: 'checkout',
            meta: checkout,
            victimPid: 4100,
            victimComm: 'checkout',
          }),
          tcpClose({
            pid: 999,
            procStartNs: 9 * SEC,
            at: t + 50,
            comm: 'mystery',
            meta: null,
            durationNs: 3 * SEC,
          }),
        ),
      );
      await r.waitForSpans(6);
      const byName = (name: string, i = 0) => r.spans.filter((s) => s.name === name)[i]!;

      const connect = byName('tcp.connect');
      expect(connect.resource).toMatchObject({
        'service.name': 'checkout',
        'service.namespace': 'shop',
        'service.instance.id': 'shop.checkout-7d9f8b6c5-x2x9q.checkout',
        'k8s.namespace.name': 'shop',
        'k8s.pod.name': 'checkout-7d9f8b6c5-x2x9q',
        'k8s.container.name': 'checkout',
        'k8s.pod.label.app': 'checkout',
        'k8s.node.name': 'node-a',
        'host.name': 'node-a.example',
        'deployment.environment.name': 'prod',
        team: 'pay ments',
      });
      expect(connect.scope).toEqual({ name: 'podtrace', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
      expect(connect.kind).toBe('SPAN_KIND_CLIENT');
      expect(connect.endTimeUnixNano).toBe(BigInt(WALL_CLOCK_OFFSET_NS + t));
      expect(connect.endTimeUnixNano - connect.startTimeUnixNano).toBe(300_000n);
      expect(connect.attributes).toMatchObject({
        'process.pid': 4100,
        'process.executable.name': 'checkout',
        'network.transport': 'tcp',
        'network.type': 'ipv4',
        'server.address': '10.96.0.10',
        'server.port': 5432,
        'network.peer.address': '10.96.0.10',
        'network.local.address': '10.244.1.17',
        'podtrace.enrichment': 'complete',
      });
      expect(connect.status.code).toBe('STATUS_CODE_UNSET');

      const refused = byName('tcp.connect', 1);
      expect(refused.status).toEqual({ code: 'STATUS_CODE_ERROR', message: 'ECONNREFUSED' });
      expect(refused.attributes['error.type']).toBe('ECONNREFUSED');

      const accept = byName('tcp.accept');
      expect(accept.kind).toBe('SPAN_KIND_SERVER');
      expect(accept.attributes).toMatchObject({
        'client.address': '10.244.2.9',
        'client.port': 51000,
        'network.local.port': 8080,
      });

      const retransmit = byName('tcp.retransmit');
      expect(retransmit.startTimeUnixNano).toBe(retransmit.endTimeUnixNano);
      expect(retransmit.resource).toMatchObject({
        'service.name': 'kubelet',
        'service.namespace': 'host',
        'host.name': 'node-a.example',
        'deployment.environment.name': 'prod',
      });

      const oom = byName('oom.kill');
      expect(oom.status.code).toBe('STATUS_CODE_ERROR');
      expect(oom.startTimeUnixNano).toBe(oom.endTimeUnixNano);

      const close = byName('tcp.close');
      expect(close.endTimeUnixNano - close.startTimeUnixNano).toBe(BigInt(3 * SEC));
      expect(close.resource['service.name']).toBe('unknown_service:mystery');

      // Containers share one resource per request: the checkout spans sit under a single ResourceSpans.
      const resourceNames: string[] = [];
      for (const q of r.requests) {
        for (const rs of q.body.resourceSpans as { resource: { attributes: unknown[] } }[]) {
          resourceNames.push(String(attributeMap(rs.resource.attributes as never)['service.name']));
        }
      }
      expect(resourceNames.filter((n: string) => n === 'checkout')).toHaveLength(r.requests.length);
      for (const s of r.spans) expect(SPAN_NAMES).toContain(s.name);
    });

    it('delivers a process tree exported over several batches as one trace with parent/child ids', async () => {
      const r = await receiver();
      const { sink } = sinkFor({ endpoint: `http://${r.address}` });
      await sink.start();
      const job = workloadMeta({ namespace: 'batch', deployment: 'report' });
      const t0 = 7000 * SEC;
      const sh = { pid: 5000, procStartNs: t0, comm: 'sh', meta: job };
      const child = { pid: 5001, procStartNs: t0 + 2_000_000, comm: 'psql', meta: job };
      sink.consume(
        batch(
          processExec({
            ...sh,
            at: t0 + 1_000_000,
            ppid: 4999,
            parentStartNs: 10 * SEC,
            filename: '/bin/sh',
            args: ['sh', '-c', 'psql --password hunter2; true'],
          }),
        ),
      );
      sink.consume(
        batch(
          processFork({ ...sh, at: t0 + 2_000_000, childPid: 5001, childStartNs: child.procStartNs }),
          processExec({
            ...child,
            at: t0 + 3_000_000,
            ppid: 5000,
            parentStartNs: t0,
            filename: '/usr/bin/psql',
            args: ['psql', '--password', 'hunter2'],
          }),
          tcpConnect({ ...child, at: t0 + 4_000_000 }),
        ),
      );
      sink.consume(batch(processExit({ ...child, at: t0 + 9_000_000, exitCode: 2 })));
      sink.consume(batch(processExit({ ...sh, at: t0 + 10_000_000, exitCode: 0 })));
      await r.waitForSpans(3);
      expect(r.spans).toHaveLength(3); // fork and exec fold into the process spans

      const procs = r.spans.filter((s) => s.name === 'process');
      const parent = procs.find((s) => s.attributes['process.pid'] === 5000)!;
      const kid = procs.find((s) => s.attributes['process.pid'] === 5001)!;
      const connect = r.spans.find((s) => s.name === 'tcp.connect')!;
      expect(new Set(r.spans.map((s) => s.traceId)).size).toBe(1);
      expect(parent.parentSpanId).toBe('');
      expect(parent.links).toHaveLength(1); // to its parent (4999), which started before podtrace
      expect(kid.parentSpanId).toBe(parent.spanId);
      expect(connect.parentSpanId).toBe(kid.spanId);
      // The process span covers the process's lifetime exactly (start = exit time - lifetime).
      expect(parent.endTimeUnixNano).toBe(BigInt(WALL_CLOCK_OFFSET_NS + t0 + 10_000_000));
      expect(parent.endTimeUnixNano - parent.startTimeUnixNano).toBe(10_000_000n);
      expect(kid.endTimeUnixNano - kid.startTimeUnixNano).toBe(7_000_000n);
      expect(kid.attributes).toMatchObject({
        'process.parent_pid': 5000,
        'process.executable.path': '/usr/bin/psql',
        'process.command_args': ['psql', '--password', '[REDACTED]'],
        'process.exit.code': 2,
        'error.type': '2',
      });
      expect(kid.status.code).toBe('STATUS_CODE_ERROR');
      expect(parent.status.code).toBe('STATUS_CODE_UNSET');
      expect(kid.events.map((e) => e.name)).toEqual(['process.exec']);
      expect(new Set(r.spans.map((s) => s.name))).toEqual(new Set(['process', 'tcp.connect']));
    });

    it('sends configured and OTEL_EXPORTER_OTLP_HEADERS headers, to the endpoint from the environment', async () => {
      const r = await receiver();
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://${r.address}`,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=from-env,authorization=Bearer%20abc',
      };
      const { sink } = sinkFor({ headers: { 'x-tenant': 'from-config' } }, env);
      await sink.start();
      sink.consume(tcpVolumeBatch(4, workloadMeta()));
      await r.waitForSpans(4);
      expect(r.requests[0]!.metadata).toMatchObject({
        'x-tenant': 'from-config',
        authorization: 'Bearer abc',
      });
    });
  });

  describe('retries', () => {
    it('retries UNAVAILABLE until the receiver accepts, losing nothing', async () => {
      const r = await receiver();
      r.failNext(3, status.UNAVAILABLE);
      const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}` });
      await sink.start();
      sink.consume(tcpVolumeBatch(50, workloadMeta()));
      await r.waitForSpans(50);
      await sink.shutdown();
      expect(r.spans).toHaveLength(50);
      expect(new Set(r.spans.map((s) => s.spanId)).size).toBe(50);
      expect(await counterValue(metrics.sinkRetried, { sink: 'otlp' })).toBe(3);
      expect(await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'UNAVAILABLE' })).toBe(3);
      expect(await metrics.droppedCount('otlp')).toBe(0);
    });

    it('retries RESOURCE_EXHAUSTED only when the server sent RetryInfo', async () => {
      const r = await receiver();
      const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}`, maxConcurrentExports: 1 });
      await sink.start();
      r.failNext(1, status.RESOURCE_EXHAUSTED, 30);
      sink.consume(tcpVolumeBatch(10, workloadMeta()));
      await r.waitForSpans(10);
      expect(await counterValue(metrics.sinkRetried, { sink: 'otlp' })).toBe(1);

      r.failNext(1, status.RESOURCE_EXHAUSTED);
      sink.consume(tcpVolumeBatch(7, workloadMeta(), 20_000 * SEC));
      await eventually(async () => (await metrics.droppedCount('otlp', 'permanent_error')) === 7);
      r.failNext(1, status.INVALID_ARGUMENT, 30);
      sink.consume(tcpVolumeBatch(5, workloadMeta(), 30_000 * SEC));
      await eventually(async () => (await metrics.droppedCount('otlp', 'permanent_error')) === 12);
      expect(r.spans).toHaveLength(10);
      expect(await counterValue(metrics.sinkRetried, { sink: 'otlp' })).toBe(1);
    });

    it('drops by reason while the receiver is down past the queue bound, stays healthy, and resumes', async () => {
      const r = await receiver();
      const address = r.address;
      await r.stop();
      const { sink, metrics } = sinkFor({
        endpoint: `http://${address}`,
        queue: { maxSpans: 50 },
        batch: { maxSpans: 10, maxDelayMs: 5 },
        maxConcurrentExports: 1,
        timeoutMs: 500,
        retry: { initialBackoffMs: 10, maxBackoffMs: 30, maxElapsedMs: 150 },
      });
      await sink.start();
      sink.consume(tcpVolumeBatch(200, workloadMeta()));
      expect(await metrics.droppedCount('otlp', 'queue_full')).toBe(150);
      await eventually(async () => (await metrics.droppedCount('otlp', 'retries_exhausted')) === 50);
      expect(sink.ready().ready).toBe(true);
      expect(sink.ready().detail).toMatch(/failing/);
      expect(await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'UNAVAILABLE' })).toBeGreaterThan(
        0,
      );

      await r.start(Number(address.split(':')[1]));
      sink.consume(tcpVolumeBatch(30, workloadMeta(), 50_000 * SEC));
      await r.waitForSpans(30);
      expect(r.spans).toHaveLength(30);
      expect(sink.ready().detail).not.toMatch(/failing/);
      expect(await metrics.droppedCount('otlp')).toBe(200);
    });
    it('holds the queue to queue.maxBytes counting what a span holds in memory while the receiver is down, counts the rest as queue_full, and delivers what it held once it is back', async () => {
      const r = await receiver();
      const address = r.address;
      await r.stop();
      const maxBytes = 40 * 1024;
      const { sink, metrics } = sinkFor({
        endpoint: `http://${address}`,
        queue: { maxSpans: 100_000, maxBytes },
        batch: { maxSpans: 10, maxDelayMs: 5 },
        maxConcurrentExports: 1,
        timeoutMs: 500,
        retry: { initialBackoffMs: 10, maxBackoffMs: 30, maxElapsedMs: 600_000 },
      });
      await sink.start();
      const events = tcpVolumeBatch(200, workloadMeta());
      // What the byte bound admits: each span's encoded size plus the measured per-span overhead.
      const mapper = new SpanMapper({
        bootId: TEST_BOOT_ID,
        resources: new SpanResources({ hostName: 'node-a.example', nodeName: 'node-a' }),
      });
      let held = 0;
      let admitted = 0;
      for (const span of mapper.mapBatch(events)) {
        const cost = encodedItemBytes(toEncodedSpan(span)) + OTLP_SPAN_OVERHEAD_BYTES;
        if (held + cost <= maxBytes) {
          held += cost;
          admitted++;
        }
      }
      expect(admitted).toBeGreaterThan(10);
      expect(admitted).toBeLessThan(100);
      sink.consume(events);
      expect(await metrics.droppedCount('otlp', 'queue_full')).toBe(200 - admitted);
      await eventually(
        async () => (await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'UNAVAILABLE' })) > 1,
      );

      await r.start(Number(address.split(':')[1]));
      await r.waitForSpans(admitted);
      await sink.flush();
      expect(r.spans).toHaveLength(admitted);
      expect(await metrics.droppedCount('otlp')).toBe(200 - admitted);
    });
  });

  describe('size limits', () => {
    it('splits a batch the receiver refuses as too large (RESOURCE_EXHAUSTED on size) and delivers every span', async () => {
      const r = await receiver(undefined, { maxReceiveBytes: 16 * 1024 });
      const { sink, metrics } = sinkFor({
        endpoint: `http://${r.address}`,
        compression: 'none',
        batch: { maxSpans: 2048, maxDelayMs: 20 },
        maxConcurrentExports: 1,
      });
      await sink.start();
      sink.consume(tcpVolumeBatch(400, workloadMeta()));
      await r.waitForSpans(400);
      await sink.shutdown();
      expect(new Set(r.spans.map((s) => s.spanId)).size).toBe(400);
      expect(
        await counterValue(metrics.sinkFailed, { sink: 'otlp', reason: 'RESOURCE_EXHAUSTED' }),
      ).toBeGreaterThan(0);
      expect(await metrics.droppedCount('otlp')).toBe(0);
    });

    it('cuts batches at batch.maxBytes so a receiver with that limit never refuses one', async () => {
      const r = await receiver(undefined, { maxReceiveBytes: 8 * 1024 });
      const { sink, metrics } = sinkFor({
        endpoint: `http://${r.address}`,
        compression: 'none',
        batch: { maxSpans: 2048, maxBytes: 8 * 1024, maxDelayMs: 20 },
      });
      await sink.start();
      sink.consume(tcpVolumeBatch(400, workloadMeta()));
      await r.waitForSpans(400);
      await sink.shutdown();
      expect(r.requests.length).toBeGreaterThan(1);
      expect(await counterValue(metrics.sinkFailed, { sink: 'otlp' })).toBe(0);
      expect(await metrics.droppedCount('otlp')).toBe(0);
    });

    it('drops a single span larger than the receiver accepts, counted as too_large, and delivers the rest', async () => {
      const r = await receiver(undefined, { maxReceiveBytes: 4 * 1024 });
      const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}`, compression: 'none' });
      await sink.start();
      const meta = workloadMeta();
      const huge = processExec({
        pid: 4242,
        procStartNs: 5 * SEC,
        at: 6 * SEC,
        comm: 'big',
        meta,
        ppid: 1,
        parentStartNs: SEC,
        args: ['/usr/bin/big', 'x'.repeat(8 * 1024)],
      });
      sink.consume(
        batch(
          huge,
          processExit({ pid: 4242, procStartNs: 5 * SEC, at: 7 * SEC, comm: 'big', meta, exitCode: 0 }),
        ),
      );
      sink.consume(tcpVolumeBatch(10, meta));
      await sink.shutdown();
      expect(await metrics.droppedCount('otlp', 'too_large')).toBe(1);
      expect(r.spans.filter((s) => s.name.startsWith('tcp'))).toHaveLength(10);
    });
  });

  describe('server retry hints', () => {
    it('waits the RetryInfo delay an UNAVAILABLE answer carries before the retry', async () => {
      const r = await receiver();
      r.failNext(1, status.UNAVAILABLE, 400);
      const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}`, maxConcurrentExports: 1 });
      await sink.start();
      sink.consume(tcpVolumeBatch(8, workloadMeta()));
      await r.waitForSpans(8);
      await sink.shutdown();
      expect(r.callTimes).toHaveLength(2);
      // The backoff alone would retry after 5-15 ms (FAST_RETRY); the server asked for 400 ms.
      expect(r.callTimes[1]! - r.callTimes[0]!).toBeGreaterThanOrEqual(390);
      expect(await counterValue(metrics.sinkRetried, { sink: 'otlp' })).toBe(1);
      expect(await metrics.droppedCount('otlp')).toBe(0);
    });
  });

  describe('partial success', () => {
    it('logs the server message and counts rejected spans as dropped', async () => {
      const r = await receiver();
      r.partialSuccessNext(3, 'span name too long');
      const { logger, lines } = captureLogger();
      const { sink, metrics } = sinkFor({ endpoint: `http://${r.address}` }, {}, logger);
      await sink.start();
      sink.consume(tcpVolumeBatch(12, workloadMeta()));
      await r.waitForSpans(12);
      await sink.shutdown();
      expect(await metrics.droppedCount('otlp', 'rejected_by_server')).toBe(3);
      expect(await counterValue(metrics.sinkExported, { sink: 'otlp' })).toBe(9);
      expect(lines.find((l) => l.msg === 'OTLP receiver reported partial success')).toMatchObject({
        rejectedSpans: 3,
        message: 'span name too long',
      });
    });
  });

  describe('compression', () => {
    it.each([
      ['gzip', true],
      ['none', false],
    ] as const)('sends compression %s on the wire', async (compression, compressed) => {
      const r = await receiver();
      const tap = new GrpcWireTap(r.port);
      const tapAddress = await tap.start();
      try {
        const { sink } = sinkFor({ endpoint: `http://${tapAddress}`, compression });
        await sink.start();
        sink.consume(tcpVolumeBatch(500, workloadMeta()));
        await r.waitForSpans(500);
        await sink.shutdown();
        expect(tap.messages.length).toBeGreaterThan(0);
        expect(tap.messages.every((m) => m.compressed === compressed)).toBe(true);
        const decodedBytes = r.requests.reduce((n, q) => n + JSON.stringify(q.body).length, 0);
        if (compressed) expect(tap.dataBytes * 5).toBeLessThan(decodedBytes);
      } finally {
        await tap.stop();
      }
    });
  });
});

describeIf(opensslMissing())('OtlpSink over TLS', () => {
  let ca: TestCa;
  const file = (name: string): string => ca.file(name);

  beforeAll(() => {
    ca = makeTestCa();
  });

  afterAll(() => ca.remove());

  it('exports to a receiver whose certificate the configured CA signed', async () => {
    const r = await receiver({
      key: readFileSync(file('server.key')),
      cert: readFileSync(file('server.crt')),
    });
    const { sink } = sinkFor({ endpoint: `https://${r.address}`, tls: { ca: file('ca.crt') } });
    await sink.start();
    sink.consume(tcpVolumeBatch(20, workloadMeta()));
    await r.waitForSpans(20);
    expect(r.spans).toHaveLength(20);
  });

  it('presents the client certificate when the receiver requires one (mutual TLS)', async () => {
    const r = await receiver({
      key: readFileSync(file('server.key')),
      cert: readFileSync(file('server.crt')),
      clientCa: readFileSync(file('ca.crt')),
    });
    const { sink } = sinkFor({
      endpoint: `https://${r.address}`,
      tls: { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') },
    });
    await sink.start();
    sink.consume(tcpVolumeBatch(5, workloadMeta()));
    await r.waitForSpans(5);
    expect(r.spans).toHaveLength(5);
  });

  it('refuses a receiver whose certificate the CA did not sign, counting the failures', async () => {
    const r = await receiver({
      key: readFileSync(file('server.key')),
      cert: readFileSync(file('server.crt')),
    });
    const { sink, metrics } = sinkFor({
      endpoint: `https://${r.address}`,
      tls: { ca: file('client.crt') },
      retry: { initialBackoffMs: 10, maxBackoffMs: 20, maxElapsedMs: 100 },
    });
    await sink.start();
    sink.consume(tcpVolumeBatch(5, workloadMeta()));
    await eventually(async () => (await metrics.droppedCount('otlp', 'retries_exhausted')) === 5);
    expect(r.spans).toHaveLength(0);
  });
});
