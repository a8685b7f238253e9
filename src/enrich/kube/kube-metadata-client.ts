import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeConfig, V1OwnerReference } from '@kubernetes/client-node';
import { PodtraceError } from '../../core/errors';
import type { OwnerRef } from '../meta/owner';
import { ConnectTunnelAgent, ProxyTunnelError, parseProxyUrl, proxyAuthorization } from './kube-proxy';

/**
 * Ask for the object's metadata only (what client-go's metadata client sends); servers that do not
 * know the transformation answer the full object (`application/json`), which parses the same way.
 */
export const PARTIAL_METADATA_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json';
/** A metadata answer is a few KiB; a full ReplicaSet with a large pod template stays far below this. */
export const MAX_METADATA_RESPONSE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_METADATA_TIMEOUT_MS = 5000;

export type OwnedKind = 'ReplicaSet' | 'Job';

const COLLECTION: Readonly<Record<OwnedKind, { prefix: string; plural: string }>> = {
  ReplicaSet: { prefix: '/apis/apps/v1', plural: 'replicasets' },
  Job: { prefix: '/apis/batch/v1', plural: 'jobs' },
};

/** A failed metadata request; `reason` is the metric label (`http_403`, `unreachable`, `timeout`, …). */
export class KubeRequestError extends PodtraceError {
  constructor(
    message: string,
    readonly reason: string,
    readonly status: number | null,
    cause?: unknown,
  ) {
    super(message, { retriable: status === null || status === 429 || status >= 500, cause });
  }
}

/** The controller among ownerReferences (the first one when none is marked controller). */
export function controllerOf(refs: readonly V1OwnerReference[] | undefined): OwnerRef | null {
  if (refs === undefined || refs.length === 0) return null;
  const c = refs.find((r) => r.controller === true) ?? refs[0];
  return c === undefined ? null : { kind: c.kind, name: c.name };
}

/**
 * Named GETs of one object's metadata, with the credentials and TLS settings of a kubeconfig
 * (client-node applies them; its own API classes cannot ask for PartialObjectMetadata). One
 * keep-alive agent, so a burst of owner lookups reuses a few connections. Reads from the API
 * server's watch cache (`resourceVersion=0`): no etcd read per lookup.
 */
export class KubeMetadataClient {
  private readonly server: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  /** The cluster's `proxy-url`, when it forwards plain-http requests (https goes through the tunnel agent). */
  private readonly forwardProxy: URL | null = null;

  constructor(
    private readonly kc: KubeConfig,
    maxSockets: number,
    private readonly timeoutMs = DEFAULT_METADATA_TIMEOUT_MS,
  ) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new PodtraceError('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    const options = { keepAlive: true, maxSockets };
    const secure = this.server.protocol === 'https:';
    // Throws, naming the kubeconfig key, for a proxy this client cannot use.
    const proxy =
      cluster.proxyUrl === undefined || cluster.proxyUrl === ''
        ? null
        : parseProxyUrl(cluster.proxyUrl, cluster.name);
    if (proxy !== null && secure) this.agent = new ConnectTunnelAgent(proxy, timeoutMs, options);
    else {
      this.agent = secure ? new HttpsAgent(options) : new HttpAgent(options);
      this.forwardProxy = proxy;
    }
  }

  /** The owner of a ReplicaSet or Job; null when it has none. Throws KubeRequestError. */
  async ownerOf(
    kind: OwnedKind,
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<OwnerRef | null> {
    const c = COLLECTION[kind];
    const path = `${c.prefix}/namespaces/${encodeURIComponent(namespace)}/${c.plural}/${encodeURIComponent(name)}`;
    const body = await this.get(`${path}?resourceVersion=0`, signal);
    let parsed: { metadata?: { ownerReferences?: V1OwnerReference[] } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch (err) {
      throw new KubeRequestError(`${path}: answer is not JSON`, 'bad_response', 200, err);
    }
    return controllerOf(parsed.metadata?.ownerReferences);
  }

  close(): void {
    this.agent.destroy();
  }

  private async get(pathAndQuery: string, signal?: AbortSignal): Promise<string> {
    // Credentials are applied per request: in-cluster tokens rotate, exec plugins refresh.
    const auth: RequestOptions & { agent?: unknown } = {};
    await this.kc.applyToHTTPSOptions(auth);
    const { agent: _perCallAgent, ...credentials } = auth;
    const secure = this.server.protocol === 'https:';
    const base = this.server.pathname.replace(/\/$/, '');
    const options: RequestOptions = {
      ...credentials,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
      port: this.server.port === '' ? (secure ? 443 : 80) : Number(this.server.port),
      path: `${base}${pathAndQuery}`,
      method: 'GET',
      headers: { ...credentials.headers, accept: PARTIAL_METADATA_ACCEPT },
      agent: this.agent,
      signal,
    };
    const fwd = this.forwardProxy;
    if (fwd !== null) {
      // A plain-http API server through an HTTP proxy: the absolute URI goes to the proxy.
      const auth = proxyAuthorization(fwd);
      options.hostname = fwd.hostname.replace(/^\[|\]$/g, '');
      options.port = fwd.port === '' ? 80 : Number(fwd.port);
      options.path = `${this.server.origin}${base}${pathAndQuery}`;
      options.headers = {
        ...options.headers,
        host: this.server.host,
        ...(auth === undefined ? {} : { 'proxy-authorization': auth }),
      };
    }
    return new Promise<string>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_METADATA_RESPONSE_BYTES) {
            req.destroy(
              new KubeRequestError(
                `${pathAndQuery}: answer over ${MAX_METADATA_RESPONSE_BYTES} bytes`,
                'too_large',
                status,
              ),
            );
            return;
          }
          chunks.push(d);
        });
        res.on('error', (err) =>
          reject(new KubeRequestError(`${pathAndQuery}: ${err.message}`, 'unreachable', null, err)),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (status === 200) resolve(text);
          else reject(new KubeRequestError(`${pathAndQuery}: HTTP ${status}`, `http_${status}`, status));
        });
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(
          new KubeRequestError(`${pathAndQuery}: no answer in ${this.timeoutMs} ms`, 'timeout', null),
        ),
      );
      req.on('error', (err) =>
        reject(
          err instanceof KubeRequestError
            ? err
            : err instanceof ProxyTunnelError
              ? new KubeRequestError(`${pathAndQuery}: ${err.message}`, err.reason, null, err)
              : new KubeRequestError(
                  `${pathAndQuery}: ${err.message}`,
                  signal?.aborted === true ? 'aborted' : 'unreachable',
                  null,
                  err,
                ),
        ),
      );
      req.end();
    });
  }
}
