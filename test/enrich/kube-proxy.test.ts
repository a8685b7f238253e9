import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { silentLogger } from '../../src/core/logger';
import { PodtraceError } from '../../src/core/errors';
import { KubeconfigCredentials } from '../../src/enrich/kube/kube-credentials';
import { KubeMetadataClient, KubeRequestError } from '../../src/enrich/kube/kube-metadata-client';
import { KubeStore } from '../../src/enrich/kube/kube-store';
import { Metrics } from '../../src/telemetry/metrics';
import { KubeApiServer, ownedObject } from '../helpers/kube-api-server';
import { describeIf } from '../helpers/prereq';
import { makeTestCa, opensslMissing } from '../helpers/test-ca';
import type { TestCa } from '../helpers/test-ca';
import { enrichConfig } from './enrich-fixtures';

const AUTH = `Basic ${Buffer.from('proxy-user:pr0xy-secret').toString('base64')}`;

/**
 * A forward proxy on loopback: HTTP CONNECT tunnels (for https) and absolute-URI requests (for
 * http), optionally requiring `Proxy-Authorization`, logging what it was asked.
 */
class TestProxy {
  readonly asked: { method: string; target: string; auth: string | undefined }[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly requireAuth: boolean) {
    this.server = createServer((req, res) => {
      if (!this.allowed(req)) {
        res.writeHead(407, { 'proxy-authenticate': 'Basic' }).end();
        return;
      }
      const url = new URL(req.url ?? '');
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      const up = request(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: req.method,
          headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    this.server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      this.sockets.add(client);
      client.on('error', () => undefined);
      if (!this.allowed(req)) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.sockets.add(upstream);
      upstream.on('error', () => client.destroy());
    });
  }

  private allowed(req: IncomingMessage): boolean {
    this.asked.push({
      method: req.method ?? '',
      target: req.url ?? '',
      auth: req.headers['proxy-authorization'],
    });
    return !this.requireAuth || req.headers['proxy-authorization'] === AUTH;
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

async function clientFor(kubeconfig: string): Promise<KubeMetadataClient> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return new KubeMetadataClient(new KubeconfigCredentials(kc), 2, 3000);
}

function withOwner(api: KubeApiServer): void {
  api.upsert(
    '/apis/apps/v1/replicasets',
    ownedObject('web-7d4f9', 'shop', { kind: 'Deployment', name: 'web' }),
  );
}

describe('KubeMetadataClient through the kubeconfig proxy-url', () => {
  let api: KubeApiServer;
  let proxy: TestProxy;

  afterEach(async () => {
    await proxy?.stop();
    await api?.stop();
  });

  it('sends owner GETs for an http API server to the proxy as absolute URIs, with its credentials', async () => {
    api = new KubeApiServer();
    await api.start();
    withOwner(api);
    proxy = await new TestProxy(true).start();
    const client = await clientFor(
      api.writeKubeconfig({ proxyUrl: `http://proxy-user:pr0xy-secret@127.0.0.1:${proxy.port}` }),
    );
    try {
      expect(await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9')).toEqual({
        kind: 'Deployment',
        name: 'web',
      });
    } finally {
      client.close();
    }
    expect(proxy.asked).toEqual([
      {
        method: 'GET',
        target: `${api.url}/apis/apps/v1/namespaces/shop/replicasets/web-7d4f9?resourceVersion=0`,
        auth: AUTH,
      },
    ]);
    expect(api.requests.filter((r) => r.includes('web-7d4f9'))).toHaveLength(1);
  });

  it('fails as unreachable when the proxy is down, never quoting its password', async () => {
    api = new KubeApiServer();
    await api.start();
    proxy = await new TestProxy(false).start();
    const port = proxy.port;
    await proxy.stop();
    const client = await clientFor(
      api.writeKubeconfig({ proxyUrl: `http://u:pr0xy-secret@127.0.0.1:${port}` }),
    );
    const err = await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(KubeRequestError);
    expect((err as KubeRequestError).reason).toBe('unreachable');
    expect((err as Error).message).not.toContain('pr0xy-secret');
    expect(api.requests).toEqual([]);
  });

  it('refuses a proxy scheme it cannot use, naming the kubeconfig key and never the password', async () => {
    api = new KubeApiServer();
    await api.start();
    proxy = await new TestProxy(false).start();
    const kubeconfig = api.writeKubeconfig({ proxyUrl: 'socks5://u:pr0xy-secret@127.0.0.1:1080' });
    const err = await clientFor(kubeconfig).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodtraceError);
    expect((err as Error).message).toContain('kubeconfig clusters[name=test].cluster.proxy-url');
    expect((err as Error).message).toContain('socks5');
    expect((err as Error).message).not.toContain('pr0xy-secret');
  });
});

describe('KubeStore', () => {
  describe('.start', () => {
    it('keeps attributing pods, without owner lookups, when the owner client cannot use the proxy', async () => {
      const api = new KubeApiServer();
      await api.start();
      const metrics = new Metrics();
      const config = enrichConfig({
        kubernetes: { kubeconfig: api.writeKubeconfig({ proxyUrl: 'socks5://127.0.0.1:1080' }) },
      }).kubernetes;
      const store = new KubeStore(config, 'node-1', 1000, { logger: silentLogger(), metrics });
      try {
        await store.start();
        const errors = await metrics.lookupErrors.get();
        expect(errors.values).toContainEqual(
          expect.objectContaining({ labels: { backend: 'kubernetes', reason: 'owner_config' }, value: 1 }),
        );
        expect(store.active).toBe(true);
        expect(store.parentOf('ReplicaSet', 'shop', 'web-7d4f9')).toBeNull();
      } finally {
        await store.stop();
        await api.stop();
      }
    });
  });
});

describeIf(opensslMissing())(
  'KubeMetadataClient through an HTTP CONNECT proxy to an https API server',
  () => {
    let ca: TestCa;
    let api: KubeApiServer;
    let proxy: TestProxy;

    beforeAll(() => {
      ca = makeTestCa();
    });
    afterAll(() => ca.remove());
    afterEach(async () => {
      await proxy?.stop();
      await api?.stop();
    });

    const tlsApi = async (): Promise<KubeApiServer> => {
      const s = new KubeApiServer({
        cert: ca.file('server.crt'),
        key: ca.file('server.key'),
        ca: ca.file('ca.crt'),
      });
      await s.start();
      withOwner(s);
      return s;
    };

    it('tunnels with CONNECT, checks the server certificate inside and reuses the tunnel', async () => {
      api = await tlsApi();
      proxy = await new TestProxy(true).start();
      const client = await clientFor(
        api.writeKubeconfig({ proxyUrl: `http://proxy-user:pr0xy-secret@127.0.0.1:${proxy.port}` }),
      );
      try {
        for (let i = 0; i < 3; i++)
          expect(await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9')).toEqual({
            kind: 'Deployment',
            name: 'web',
          });
      } finally {
        client.close();
      }
      // One tunnel for three sequential GETs (keep-alive through the tunnel), with the proxy's credentials.
      expect(proxy.asked).toEqual([{ method: 'CONNECT', target: `127.0.0.1:${api.port}`, auth: AUTH }]);
      expect(api.requests.filter((r) => r.includes('web-7d4f9'))).toHaveLength(3);
    });

    it('refuses a server certificate its kubeconfig CA did not sign, inside the tunnel', async () => {
      api = await tlsApi();
      proxy = await new TestProxy(false).start();
      const other = makeTestCa();
      try {
        const kubeconfig = api.writeKubeconfig({ proxyUrl: `http://127.0.0.1:${proxy.port}` });
        writeFileSync(
          kubeconfig,
          readFileSync(kubeconfig, 'utf8').replace(ca.file('ca.crt'), other.file('ca.crt')),
        );
        const client = await clientFor(kubeconfig);
        const err = await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9').catch((e: unknown) => e);
        client.close();
        expect(err).toBeInstanceOf(KubeRequestError);
        expect((err as KubeRequestError).reason).toBe('unreachable');
        expect(proxy.asked).toEqual([
          { method: 'CONNECT', target: `127.0.0.1:${api.port}`, auth: undefined },
        ]);
        expect(api.requests).toEqual([]);
      } finally {
        other.remove();
      }
    });

    it('fails with the proxy status, naming the proxy without its password, when CONNECT is refused', async () => {
      api = await tlsApi();
      proxy = await new TestProxy(true).start();
      const client = await clientFor(
        api.writeKubeconfig({ proxyUrl: `http://proxy-user:wr0ng-secret@127.0.0.1:${proxy.port}` }),
      );
      const err = await client.ownerOf('ReplicaSet', 'shop', 'web-7d4f9').catch((e: unknown) => e);
      client.close();
      expect(err).toBeInstanceOf(KubeRequestError);
      expect((err as KubeRequestError).reason).toBe('proxy_http_407');
      expect((err as Error).message).toContain(`proxy http://proxy-user:***@127.0.0.1:${proxy.port}/`);
      expect((err as Error).message).not.toContain('wr0ng-secret');
      expect(api.requests).toEqual([]);
    });
  },
);
