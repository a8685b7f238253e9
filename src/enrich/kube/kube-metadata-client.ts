import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { PodtraceError } from '../../core/errors';
import type { OwnerRef } from '../meta/owner';
import type { CredentialedOptions, KubeCredentials } from './kube-credentials';
import { KubeCredentialsError } from './kube-credentials';
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
/** An error answer (a Status) is read up to this size for its reason. */
const MAX_STATUS_BYTES = 64 * 1024;

export type OwnedKind = 'ReplicaSet' | 'Job';

const COLLECTION: Readonly<Record<OwnedKind, { prefix: string; plural: string }>> = {
  ReplicaSet: { prefix: '/apis/apps/v1', plural: 'replicasets' },
  Job: { prefix: '/apis/batch/v1', plural: 'jobs' },
};

/** A failed metadata request; `reason` is the metric label (`http_403`, `unreachable`, `timeout`, …). */
export class KubeRequestError extends PodtraceError {
  /** The Status answer's `reason` (`Expired` for a stale continue token or resourceVersion), or ''. */
  statusReason = '';

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
export function controllerOf(
  refs: readonly { kind: string; name: string; controller?: boolean }[] | undefined,
): OwnerRef | null {
  if (refs === undefined || refs.length === 0) return null;
  const c = refs.find((r) => r.controller === true) ?? refs[0];
  return c === undefined ? null : { kind: c.kind, name: c.name };
}

/**
 * Plain HTTP to the API server with the credentials and TLS settings of a kubeconfig (client-node
 * applies them): named GETs of one object's metadata (its API classes cannot ask for
 * PartialObjectMetadata; read from the watch cache, `resourceVersion=0`, no etcd read per lookup),
 * JSON GETs (the pod list's pages) and watches, whose answers podtrace parses itself. One
 * keep-alive agent, so a burst of owner lookups reuses a few connections.
 */
export class KubeMetadataClient {
  private readonly server: URL;
  /** null: the agent client-node builds for the kubeconfig (a proxy this client cannot tunnel itself). */
  private readonly agent: HttpAgent | HttpsAgent | null = null;
  /** The cluster's `proxy-url`, when it forwards plain-http requests (https goes through the tunnel agent). */
  private readonly forwardProxy: URL | null = null;

  constructor(
    private readonly credentials: KubeCredentials,
    maxSockets: number,
    private readonly timeoutMs = DEFAULT_METADATA_TIMEOUT_MS,
    /**
     * `kubeconfig`: for a `proxy-url` this client cannot tunnel (socks5, https), send through the
     * agent client-node makes for it instead of throwing (the pod watch; owner lookups throw).
     */
    unsupportedProxy: 'throw' | 'kubeconfig' = 'throw',
  ) {
    this.server = credentials.server;
    const options = { keepAlive: true, maxSockets };
    const secure = this.server.protocol === 'https:';
    let proxy: URL | null = null;
    try {
      // Throws, naming the kubeconfig key, for a proxy this client cannot use.
      if (credentials.proxyUrl !== undefined && credentials.proxyUrl !== '')
        proxy = parseProxyUrl(credentials.proxyUrl, credentials.clusterName);
    } catch (err) {
      if (unsupportedProxy === 'throw') throw err;
      return;
    }
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
    let parsed: { metadata?: { ownerReferences?: { kind: string; name: string; controller?: boolean }[] } };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch (err) {
      throw new KubeRequestError(`${path}: answer is not JSON`, 'bad_response', 200, err);
    }
    return controllerOf(parsed.metadata?.ownerReferences);
  }

  close(): void {
    this.agent?.destroy();
  }

  /**
   * GET a JSON document (a list page, a Status) of at most `maxBytes`. Non-200 answers reject with a
   * KubeRequestError carrying the status and, when the body is a Status, its `reason` (`Expired`).
   */
  async getJson<T>(
    pathAndQuery: string,
    opts: { accept?: string; maxBytes: number; signal?: AbortSignal },
  ): Promise<T> {
    const body = await this.get(pathAndQuery, opts.signal, opts.accept ?? 'application/json', opts.maxBytes);
    try {
      return JSON.parse(body) as T;
    } catch (err) {
      throw new KubeRequestError(`${pathAndQuery}: answer is not JSON`, 'bad_response', 200, err);
    }
  }

  /**
   * A watch: GET with a streamed answer, `onLine` called with every complete JSON line. Resolves
   * when the server ends the stream; rejects on a non-200 answer, a line over `maxLineBytes`, or no
   * byte for `idleMs` (a silent peer never wedges the watch).
   */
  async watch(
    pathAndQuery: string,
    onLine: (line: string) => void,
    opts: { maxLineBytes: number; idleMs: number; signal?: AbortSignal },
  ): Promise<void> {
    const options = await this.requestOptions(pathAndQuery, 'application/json', opts.signal);
    const secure = this.server.protocol === 'https:';
    return new Promise<void>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          // The error body (a Status) is short; read it for the reason, then fail.
          this.collect(req, res, pathAndQuery, MAX_STATUS_BYTES, (text) =>
            reject(statusError(pathAndQuery, status, text)),
          );
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          pending += d;
          let nl = pending.indexOf('\n');
          while (nl >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.trim() !== '') onLine(line);
            nl = pending.indexOf('\n');
          }
          if (pending.length > opts.maxLineBytes)
            req.destroy(
              new KubeRequestError(
                `${pathAndQuery}: watch event over ${opts.maxLineBytes} bytes`,
                'too_large',
                status,
              ),
            );
        });
        res.on('error', (err) => reject(this.requestError(pathAndQuery, err, opts.signal)));
        res.on('end', () => {
          if (pending.trim() !== '') onLine(pending);
          resolve();
        });
      });
      req.setTimeout(opts.idleMs, () =>
        req.destroy(new KubeRequestError(`${pathAndQuery}: silent for ${opts.idleMs} ms`, 'timeout', null)),
      );
      req.on('error', (err) => reject(this.requestError(pathAndQuery, err, opts.signal)));
      req.end();
    });
  }

  private async requestOptions(
    pathAndQuery: string,
    accept: string,
    signal: AbortSignal | undefined,
  ): Promise<RequestOptions> {
    // Credentials are applied per request: in-cluster tokens rotate, exec plugins refresh.
    const auth: CredentialedOptions = {};
    try {
      await this.credentials.apply(auth);
    } catch (err) {
      if (err instanceof KubeCredentialsError)
        throw new KubeRequestError(`${pathAndQuery}: ${err.message}`, 'credentials', null, err);
      throw err;
    }
    const { agent: kubeconfigAgent, ...credentials } = auth;
    const secure = this.server.protocol === 'https:';
    const base = this.server.pathname.replace(/\/$/, '');
    const options: RequestOptions = {
      ...credentials,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ''),
      port: this.server.port === '' ? (secure ? 443 : 80) : Number(this.server.port),
      path: `${base}${pathAndQuery}`,
      method: 'GET',
      headers: { ...credentials.headers, accept },
      agent: this.agent ?? kubeconfigAgent,
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
    return options;
  }

  private async get(
    pathAndQuery: string,
    signal: AbortSignal | undefined,
    accept = PARTIAL_METADATA_ACCEPT,
    maxBytes = MAX_METADATA_RESPONSE_BYTES,
  ): Promise<string> {
    const options = await this.requestOptions(pathAndQuery, accept, signal);
    const secure = this.server.protocol === 'https:';
    return new Promise<string>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        this.collect(req, res, pathAndQuery, maxBytes, (text) => {
          if (status === 200) resolve(text);
          else reject(statusError(pathAndQuery, status, text));
        });
        res.on('error', (err) => reject(this.requestError(pathAndQuery, err, signal)));
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(
          new KubeRequestError(`${pathAndQuery}: no answer in ${this.timeoutMs} ms`, 'timeout', null),
        ),
      );
      req.on('error', (err) => reject(this.requestError(pathAndQuery, err, signal)));
      req.end();
    });
  }

  /** Reads an answer of at most `maxBytes` (the request is destroyed past it) and hands over its text. */
  private collect(
    req: ClientRequest,
    res: IncomingMessage,
    pathAndQuery: string,
    maxBytes: number,
    done: (text: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (d: Buffer) => {
      size += d.length;
      if (size > maxBytes) {
        req.destroy(
          new KubeRequestError(
            `${pathAndQuery}: answer over ${maxBytes} bytes`,
            'too_large',
            res.statusCode ?? 0,
          ),
        );
        return;
      }
      chunks.push(d);
    });
    res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
  }

  private requestError(pathAndQuery: string, err: Error, signal: AbortSignal | undefined): KubeRequestError {
    if (err instanceof KubeRequestError) return err;
    if (err instanceof ProxyTunnelError)
      return new KubeRequestError(`${pathAndQuery}: ${err.message}`, err.reason, null, err);
    return new KubeRequestError(
      `${pathAndQuery}: ${err.message}`,
      signal?.aborted === true ? 'aborted' : 'unreachable',
      null,
      err,
    );
  }
}

/** A Status answer's error: `http_<code>`, with the Status `reason` (`Expired`, `Gone`) when the body has one. */
function statusError(pathAndQuery: string, status: number, body: string): KubeRequestError {
  let reason = '';
  try {
    const st = JSON.parse(body) as { kind?: string; reason?: unknown };
    if (st.kind === 'Status' && typeof st.reason === 'string') reason = st.reason;
  } catch {
    // not a Status: the HTTP code says it all
  }
  const err = new KubeRequestError(
    `${pathAndQuery}: HTTP ${status}${reason === '' ? '' : ` (${reason})`}`,
    `http_${status}`,
    status,
  );
  err.statusReason = reason;
  return err;
}
