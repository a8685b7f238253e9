import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/core/logger';
import { Metrics } from '../../src/telemetry/metrics';
import { Readiness, ReadinessFlag } from '../../src/telemetry/readiness';
import { TelemetryServer, parseListen } from '../../src/telemetry/telemetry-server';
import { lifecycleSuite } from '../helpers/lifecycle';

function makeServer(metrics = new Metrics(), readiness = new Readiness(metrics)): TelemetryServer {
  return new TelemetryServer({ listen: '127.0.0.1:0', metrics, readiness, logger: silentLogger() });
}

async function get(server: TelemetryServer, path: string, method = 'GET') {
  const { port } = server.address()!;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('TelemetryServer', () => {
  lifecycleSuite('TelemetryServer', () => makeServer());

  let server: TelemetryServer;
  let metrics: Metrics;
  let readiness: Readiness;

  beforeEach(async () => {
    metrics = new Metrics({ defaultMetrics: true });
    readiness = new Readiness(metrics);
    server = makeServer(metrics, readiness);
    await server.start();
  });
  afterEach(() => server.shutdown());

  describe('./healthz', () => {
    it('answers 200 while the process serves requests', async () => {
      const res = await get(server, '/healthz');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok', components: [] });
    });

    it('reports sink health as detail and a metric, and a down sink never makes the pod unready', async () => {
      readiness.registerHealth('sinks.kafka', new ReadinessFlag('brokers unreachable: retrying', false));
      const health = await get(server, '/healthz');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({
        status: 'ok',
        components: [{ name: 'sinks.kafka', ready: false, detail: 'brokers unreachable: retrying' }],
      });
      expect((await get(server, '/readyz')).status).toBe(200);
      expect((await get(server, '/metrics')).body).toContain(
        'podtrace_component_healthy{component="sinks.kafka"} 0',
      );
    });

    it('stays 200 when readiness fails (liveness is not readiness)', async () => {
      readiness.register('sinks.otlp', new ReadinessFlag('connecting'));
      expect((await get(server, '/healthz')).status).toBe(200);
    });
  });

  describe('./readyz', () => {
    it('answers 200 with every check when all pass', async () => {
      readiness.register('ebpf.probes', new ReadinessFlag('process, tcp attached', true));
      const res = await get(server, '/readyz');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({
        ready: true,
        failing: [],
        checks: [{ name: 'ebpf.probes', ready: true, detail: 'process, tcp attached' }],
      });
    });

    it('answers 503 naming the failing checks and their detail', async () => {
      readiness.register('ebpf.probes', new ReadinessFlag('attached', true));
      const cri = new ReadinessFlag('syncing');
      readiness.register('enrich.cri', cri);
      const res = await get(server, '/readyz');
      expect(res.status).toBe(503);
      expect(res.type).toBe('application/json');
      const body = JSON.parse(res.body);
      expect(body.failing).toEqual(['enrich.cri']);
      expect(body.checks).toContainEqual({ name: 'enrich.cri', ready: false, detail: 'syncing' });

      cri.set(true, 'synced 12 containers');
      expect((await get(server, '/readyz')).status).toBe(200);
    });
  });

  describe('./metrics', () => {
    it('serves the registry in the Prometheus text format with process CPU and RSS', async () => {
      metrics.eventsReceived.inc({ kind: 'process.exec' }, 3);
      metrics.drop('sink.otlp', 'queue_full', 2);
      const res = await get(server, '/metrics');
      expect(res.status).toBe(200);
      expect(res.type).toContain('text/plain');
      expect(res.body).toContain('podtrace_events_received_total{kind="process.exec"} 3');
      expect(res.body).toContain('podtrace_dropped_total{stage="sink.otlp",reason="queue_full"} 2');
      expect(res.body).toMatch(/^podtrace_process_cpu_user_seconds_total \d/m);
      expect(res.body).toMatch(/^podtrace_process_resident_memory_bytes \d/m);
    });

    it('exports the readiness checks as podtrace_ready', async () => {
      readiness.register('enrich.kubernetes', new ReadinessFlag('watch not synced'));
      readiness.register('ebpf.probes', new ReadinessFlag('attached', true));
      const res = await get(server, '/metrics');
      expect(res.body).toContain('podtrace_ready{check="enrich.kubernetes"} 0');
      expect(res.body).toContain('podtrace_ready{check="ebpf.probes"} 1');
    });

    it('counts requests by path and status', async () => {
      await get(server, '/healthz');
      await get(server, '/nope');
      const res = await get(server, '/metrics');
      expect(res.body).toContain('podtrace_telemetry_requests_total{path="/healthz",code="200"} 1');
      expect(res.body).toContain('podtrace_telemetry_requests_total{path="other",code="404"} 1');
    });
  });

  describe('.routing', () => {
    it('answers 404 for unknown paths and 405 for other methods', async () => {
      expect((await get(server, '/')).status).toBe(404);
      expect((await get(server, '/healthz', 'POST')).status).toBe(405);
    });

    it('answers HEAD without a body', async () => {
      const res = await get(server, '/healthz', 'HEAD');
      expect(res.status).toBe(200);
      expect(res.body).toBe('');
    });
  });

  describe('.start', () => {
    it('rejects naming telemetry.listen when the port is taken', async () => {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const { port } = blocker.address() as AddressInfo;
      const other = new TelemetryServer({
        listen: `127.0.0.1:${port}`,
        metrics: new Metrics(),
        readiness: new Readiness(),
        logger: silentLogger(),
      });
      await expect(other.start()).rejects.toThrow(
        `telemetry.listen: cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      );
      await other.shutdown();
      await new Promise((r) => blocker.close(r));
    });

    it('stops accepting connections after shutdown', async () => {
      const { port } = server.address()!;
      await server.shutdown();
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    });
  });
});

describe('parseListen', () => {
  it('splits IPv4, names and bracketed IPv6', () => {
    expect(parseListen('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  });

  it('rejects a bad address naming the key and value', () => {
    expect(() => parseListen('9464')).toThrow('telemetry.listen: "9464" is not host:port');
    expect(() => parseListen('h:70000')).toThrow('telemetry.listen: "h:70000" is not host:port');
  });
});
