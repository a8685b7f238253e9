import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load-config';
import { criCheck, kubernetesCheck, sinkChecks } from '../../src/cli/node-checks';
import { FakeCriServer } from '../enrich/fake-cri-server';
import { KubeApiServer } from '../helpers/kube-api-server';

describe('criCheck', () => {
  it('names the runtime that answered Version, and warns naming every socket when none did', async () => {
    const cri = new FakeCriServer(join(mkdtempSync(join(tmpdir(), 'podtrace-cri-')), 'cri.sock'));
    await cri.start();
    try {
      const ok = await criCheck(validateConfig({ enrich: { cri: { endpoint: cri.endpoint } } }));
      expect(ok.status).toBe('ok');
      expect(ok.detail).toContain(cri.endpoint);
    } finally {
      await cri.stop();
    }
    const missing = await criCheck(
      validateConfig({ enrich: { cri: { endpoint: 'unix:///nonexistent/podtrace.sock', timeoutMs: 500 } } }),
    );
    expect(missing).toMatchObject({ status: 'warn', name: 'cri' });
    expect(missing.detail).toContain('unix:///nonexistent/podtrace.sock');
  });
});

describe('kubernetesCheck', () => {
  it('lists this node’s pods through the API server (credentials, reachability, RBAC)', async () => {
    const api = new KubeApiServer();
    await api.start();
    try {
      const r = await kubernetesCheck(
        validateConfig({ nodeName: 'node-c', enrich: { kubernetes: { kubeconfig: api.writeKubeconfig() } } }),
      );
      expect(r).toMatchObject({ status: 'ok', name: 'kubernetes' });
      expect(r.detail).toContain('node-c');
      expect(r.detail).toContain('get replicasets and jobs');
      expect(
        api.requests.some((q) => q.includes('/api/v1/pods') && q.includes('spec.nodeName%3Dnode-c')),
      ).toBe(true);
    } finally {
      await api.stop();
    }
  });

  it('warns naming the owner access RBAC denies', async () => {
    const api = new KubeApiServer();
    await api.start();
    try {
      api.denied.add('get apps/replicasets');
      const r = await kubernetesCheck(
        validateConfig({ nodeName: 'node-c', enrich: { kubernetes: { kubeconfig: api.writeKubeconfig() } } }),
      );
      expect(r).toMatchObject({ status: 'warn', name: 'kubernetes' });
      expect(r.detail).toContain('denied: get replicasets');
      expect(r.detail).not.toContain('get jobs');
      expect(r.hint).toContain('ClusterRole');
    } finally {
      await api.stop();
    }
  });

  it('warns when the API server does not answer', async () => {
    const api = new KubeApiServer();
    await api.start();
    const kubeconfig = api.writeKubeconfig();
    await api.stop();
    const r = await kubernetesCheck(validateConfig({ enrich: { kubernetes: { kubeconfig } } }));
    expect(r).toMatchObject({ status: 'warn', name: 'kubernetes' });
    expect(r.hint).toContain('ClusterRole');
  });
});

describe('sinkChecks', () => {
  it('checks the endpoint of every OTLP signal, the logs endpoint as OTEL_EXPORTER_OTLP_LOGS_ENDPOINT names it', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const config = validateConfig({ sinks: { otlp: { enabled: true, signals: ['traces', 'logs'] } } });
    const checks = await sinkChecks(config, {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${closedPort}/v1/logs`,
    });
    expect(checks.map((c) => c.name)).toEqual(['sink otlp', 'sink otlp logs']);
    expect(checks[1]).toMatchObject({ status: 'warn' });
    expect(checks[1]?.detail).toContain(
      `http://127.0.0.1:${closedPort}/v1/logs (http/protobuf, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)`,
    );
    expect(checks[1]?.detail).toContain('ECONNREFUSED');
  });

  it('reports a reachable OTLP endpoint and unreachable Kafka brokers by address', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    try {
      const config = validateConfig({
        sinks: {
          otlp: { enabled: true, endpoint: `http://127.0.0.1:${port}`, insecure: true },
          kafka: { enabled: true, brokers: [`127.0.0.1:${closedPort}`] },
        },
      });
      const [otlp, kafka] = await sinkChecks(config, {});
      expect(otlp).toMatchObject({ status: 'ok', name: 'sink otlp' });
      expect(kafka).toMatchObject({ status: 'warn', name: 'sink kafka' });
      expect(kafka?.detail).toContain(`127.0.0.1:${closedPort}`);
      expect(kafka?.detail).toContain('ECONNREFUSED');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
