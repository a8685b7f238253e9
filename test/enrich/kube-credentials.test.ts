import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InClusterCredentials,
  KubeconfigCredentials,
  TOKEN_REREAD_MS,
  inClusterCredentials,
} from '../../src/enrich/kube/kube-credentials';
import { KubeMetadataClient, KubeRequestError } from '../../src/enrich/kube/kube-metadata-client';
import { loadKubeCredentials } from '../../src/enrich/kube/kube-store';
import { KubeApiServer, podObject } from '../helpers/kube-api-server';
import { packageRoot } from '../../src/native/native-addon';
import { missingBuiltCli } from '../helpers/built-agent';
import { describeIf } from '../helpers/prereq';
import { makeTestCa, opensslMissing } from '../helpers/test-ca';
import type { TestCa } from '../helpers/test-ca';

interface PodList {
  items: { metadata: { uid: string } }[];
}

/** A service account mount as the kubelet makes it: token, ca.crt, namespace. */
function serviceAccountDir(token: string, caFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'podtrace-sa-'));
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'namespace'), 'podtrace');
  if (caFile !== undefined) writeFileSync(join(dir, 'ca.crt'), readFileSync(caFile));
  return dir;
}

/** Rewrites the token as the kubelet rotates a projected one (a new file, a later mtime). */
function rotate(dir: string, token: string, atSeconds: number): void {
  writeFileSync(join(dir, 'token'), token);
  utimesSync(join(dir, 'token'), atSeconds, atSeconds);
}

describe('inClusterCredentials', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is null without KUBERNETES_SERVICE_HOST or without a token file', () => {
    const dir = serviceAccountDir('t');
    dirs.push(dir);
    expect(inClusterCredentials({}, dir)).toBeNull();
    expect(inClusterCredentials({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, join(dir, 'missing'))).toBeNull();
    const c = inClusterCredentials({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir);
    expect(c?.server.href).toBe('https://10.0.0.1/');
  });

  it('brackets an IPv6 service host and takes KUBERNETES_SERVICE_PORT', () => {
    const dir = serviceAccountDir('t');
    dirs.push(dir);
    const c = inClusterCredentials(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
      dir,
    );
    expect(c?.server.host).toBe('[fd00::1]:6443');
  });

  it('loadKubeCredentials prefers the service account to KUBECONFIG', async () => {
    const dir = serviceAccountDir('t');
    dirs.push(dir);
    const creds = await loadKubeCredentials(
      '',
      { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBECONFIG: '/nonexistent' },
      dir,
    );
    expect(creds).toBeInstanceOf(InClusterCredentials);
    expect(await loadKubeCredentials('', { KUBECONFIG: '/nonexistent' }, join(dir, 'missing'))).toBeNull();
  });
});

describeIf(opensslMissing())('InClusterCredentials against a TLS API server', () => {
  let ca: TestCa;
  let api: KubeApiServer;
  const dirs: string[] = [];

  beforeAll(async () => {
    ca = makeTestCa();
    api = new KubeApiServer({
      cert: ca.file('server.crt'),
      key: ca.file('server.key'),
      ca: ca.file('ca.crt'),
    });
    await api.start();
    api.upsert(
      '/api/v1/pods',
      podObject({ name: 'web-0', namespace: 'shop', uid: 'uid-web-0', nodeName: 'node-a', containers: [] }),
    );
  });
  afterAll(async () => {
    await api.stop();
    ca.remove();
  });
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  const port = (): string => new URL(api.url).port;

  it('lists pods with the mounted token, trusting the mounted CA', async () => {
    const dir = serviceAccountDir('test-token', ca.file('ca.crt'));
    dirs.push(dir);
    const creds = inClusterCredentials(
      { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port() },
      dir,
    );
    expect(creds).not.toBeNull();
    const client = new KubeMetadataClient(creds!, 2, 3000);
    try {
      const list = await client.getJson<PodList>('/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a', {
        maxBytes: 1 << 20,
      });
      expect(list.items.map((p) => p.metadata.uid)).toEqual(['uid-web-0']);
    } finally {
      client.close();
    }
  });

  it('fails TLS without the CA (no silent skip of verification)', async () => {
    const dir = serviceAccountDir('test-token');
    dirs.push(dir);
    const client = new KubeMetadataClient(new InClusterCredentials('127.0.0.1', port(), dir), 1, 3000);
    try {
      await expect(client.getJson('/api/v1/pods', { maxBytes: 1 << 20 })).rejects.toMatchObject({
        reason: 'unreachable',
      });
    } finally {
      client.close();
    }
  });

  it('picks up a rotated token within a minute, not on every request', async () => {
    const dir = serviceAccountDir('expired-token', ca.file('ca.crt'));
    dirs.push(dir);
    utimesSync(join(dir, 'token'), 1000, 1000);
    let now = 0;
    const creds = new InClusterCredentials('127.0.0.1', port(), dir, () => now);
    const client = new KubeMetadataClient(creds, 1, 3000);
    const get = (): Promise<unknown> => client.getJson('/api/v1/pods', { maxBytes: 1 << 20 });
    try {
      await expect(get()).rejects.toMatchObject({ reason: 'http_401' });
      rotate(dir, 'test-token', 2000);
      now = TOKEN_REREAD_MS - 1;
      await expect(get()).rejects.toMatchObject({ reason: 'http_401' });
      now = TOKEN_REREAD_MS;
      await expect(get()).resolves.toMatchObject({ items: [expect.anything()] });
    } finally {
      client.close();
    }
  });

  it('starts with an unreadable token, fails its requests naming why, and recovers once the token can be read', async () => {
    const dir = serviceAccountDir('test-token', ca.file('ca.crt'));
    dirs.push(dir);
    // A token path that exists but cannot be read as a file (EISDIR), as a mount gone wrong.
    rmSync(join(dir, 'token'));
    mkdirSync(join(dir, 'token'));
    let now = 0;
    const creds = new InClusterCredentials('127.0.0.1', port(), dir, () => now);
    const client = new KubeMetadataClient(creds, 1, 3000);
    const get = (): Promise<unknown> => client.getJson('/api/v1/pods', { maxBytes: 1 << 20 });
    try {
      const err = await get().catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: 'credentials' });
      expect((err as Error).message).toContain('EISDIR');
      rmSync(join(dir, 'token'), { recursive: true });
      writeFileSync(join(dir, 'token'), 'test-token');
      now = TOKEN_REREAD_MS;
      await expect(get()).resolves.toMatchObject({ items: [expect.anything()] });
    } finally {
      client.close();
    }
  });

  it('keeps the last token when the file is briefly gone, and names the file when there never was one', async () => {
    const dir = serviceAccountDir('test-token', ca.file('ca.crt'));
    dirs.push(dir);
    let now = 0;
    const creds = new InClusterCredentials('127.0.0.1', port(), dir, () => now);
    rmSync(join(dir, 'token'));
    now = TOKEN_REREAD_MS;
    const client = new KubeMetadataClient(creds, 1, 3000);
    try {
      await expect(client.getJson('/api/v1/pods', { maxBytes: 1 << 20 })).resolves.toMatchObject({
        items: [expect.anything()],
      });
    } finally {
      client.close();
    }
    const empty = serviceAccountDir('', ca.file('ca.crt'));
    dirs.push(empty);
    const none = new KubeMetadataClient(new InClusterCredentials('127.0.0.1', port(), empty), 1, 3000);
    try {
      const err = await none.getJson('/api/v1/pods', { maxBytes: 1 << 20 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeRequestError);
      expect(err).toMatchObject({ reason: 'credentials' });
      expect((err as Error).message).toContain(join(empty, 'token'));
    } finally {
      none.close();
    }
  });
});

describeIf(missingBuiltCli())('loadKubeCredentials in the built agent', () => {
  /** Which credentials the built module resolves, and whether @kubernetes/client-node got loaded. */
  function resolveInChild(kubeconfig: string, env: Record<string, string>, dir: string) {
    const store = join(packageRoot(), 'dist', 'src', 'enrich', 'kube', 'kube-store.js');
    const script = `require(${JSON.stringify(store)}).loadKubeCredentials(${JSON.stringify(kubeconfig)}, ${JSON.stringify(env)}, ${JSON.stringify(dir)}).then((c) => process.stdout.write(JSON.stringify({ kind: c === null ? null : c.constructor.name, clientNode: Object.keys(require.cache).some((k) => k.includes('@kubernetes/client-node')) })))`;
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
      kind: string | null;
      clientNode: boolean;
    };
  }

  it('does not load @kubernetes/client-node in-cluster (~80 MB of RSS), and does for a kubeconfig file', () => {
    const dir = serviceAccountDir('t');
    try {
      expect(resolveInChild('', { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir)).toEqual({
        kind: 'InClusterCredentials',
        clientNode: false,
      });
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://10.0.0.1\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    token: x\n',
      );
      expect(resolveInChild(kubeconfig, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, dir)).toEqual({
        kind: 'KubeconfigCredentials',
        clientNode: true,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('KubeconfigCredentials', () => {
  it('names the missing current cluster of a kubeconfig', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    expect(() => new KubeconfigCredentials(kc)).toThrow('kubeconfig has no current cluster');
  });
});
