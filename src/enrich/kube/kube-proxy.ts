import { Agent as HttpsAgent } from 'node:https';
import type { AgentOptions as HttpsAgentOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { PodtraceError } from '../../core/errors';

/** The kubeconfig key, for error messages: `clusters[name=prod].cluster.proxy-url`. */
export function proxyUrlKey(cluster: string): string {
  return `kubeconfig clusters[name=${cluster}].cluster.proxy-url`;
}

/** The proxy URL as it may be shown: a password in it becomes `***`. */
export function shownProxyUrl(u: URL): string {
  if (u.password === '') return u.href;
  const shown = new URL(u.href);
  shown.password = '***';
  return shown.href;
}

/**
 * A kubeconfig cluster's `proxy-url`, checked: only `http://` proxies are supported for the owner
 * lookups (an HTTP CONNECT tunnel to an https API server, a plain forward to an http one).
 */
export function parseProxyUrl(raw: string, cluster: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PodtraceError(`${proxyUrlKey(cluster)}: not a URL`);
  }
  if (u.protocol !== 'http:')
    throw new PodtraceError(
      `${proxyUrlKey(cluster)}: "${shownProxyUrl(u)}" uses ${u.protocol.replace(/:$/, '')}; podtrace's owner lookups support http:// proxies only (HTTP CONNECT)`,
    );
  return u;
}

/** `Proxy-Authorization` for credentials in the proxy URL, or undefined. */
export function proxyAuthorization(u: URL): string | undefined {
  if (u.username === '' && u.password === '') return undefined;
  const creds = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  return `Basic ${Buffer.from(creds).toString('base64')}`;
}

/** A failed tunnel; `reason` is the metric label (`proxy_http_407`, `proxy_unreachable`, `proxy_timeout`). */
export class ProxyTunnelError extends PodtraceError {
  constructor(
    message: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(message, { retriable: true, cause });
  }
}

/**
 * An https agent whose connections go through an HTTP proxy: each new connection is a
 * `CONNECT host:port` to the proxy, then TLS to the API server inside the tunnel (the server's
 * certificate is checked as without a proxy). Connections are kept alive and reused like any.
 */
export class ConnectTunnelAgent extends HttpsAgent {
  constructor(
    private readonly proxy: URL,
    private readonly connectTimeoutMs: number,
    options: HttpsAgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = callback ?? (() => undefined);
    const host = (options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 443);
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const auth = proxyAuthorization(this.proxy);
    const shown = shownProxyUrl(this.proxy);
    const req = httpRequest({
      hostname: this.proxy.hostname.replace(/^\[|\]$/g, ''),
      port: this.proxy.port === '' ? 80 : Number(this.proxy.port),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(auth === undefined ? {} : { 'proxy-authorization': auth }) },
      agent: false,
    });
    req.setTimeout(this.connectTimeoutMs, () =>
      req.destroy(
        new ProxyTunnelError(
          `proxy ${shown}: no answer to CONNECT in ${this.connectTimeoutMs} ms`,
          'proxy_timeout',
        ),
      ),
    );
    req.once('connect', (res, socket) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        done(
          new ProxyTunnelError(
            `proxy ${shown} answered CONNECT ${authority} with HTTP ${res.statusCode ?? 0}`,
            `proxy_http_${res.statusCode ?? 0}`,
          ),
          socket,
        );
        return;
      }
      const { path: _requestPath, ...rest } = options;
      const tls: ConnectionOptions = { ...(rest as ConnectionOptions), socket };
      tls.servername ??= isIP(host) === 0 ? host : undefined;
      done(null, tlsConnect(tls));
    });
    req.once('error', (err) =>
      done(
        err instanceof ProxyTunnelError
          ? err
          : new ProxyTunnelError(`proxy ${shown}: ${err.message}`, 'proxy_unreachable', err),
        undefined as unknown as Duplex,
      ),
    );
    req.end();
    return undefined;
  }
}
