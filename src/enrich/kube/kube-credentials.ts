import { existsSync, readFileSync, statSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { PodtraceError, errorMessage } from '../../core/errors';

/** Where the kubelet mounts a pod's service account (token, ca.crt, namespace). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A projected token is re-read at most this often (client-go re-reads its token file every minute). */
export const TOKEN_REREAD_MS = 60_000;

/** Request options with the agent a kubeconfig may name (a proxy client-node tunnels itself). */
export type CredentialedOptions = RequestOptions & { agent?: unknown };

/** What a request to the API server needs: where it is and how to authenticate to it. */
export interface KubeCredentials {
  readonly server: URL;
  /** The cluster's name, as errors about its settings name it. */
  readonly clusterName: string;
  /** The kubeconfig's `proxy-url`, or undefined. */
  readonly proxyUrl: string | undefined;
  /** Adds TLS trust, client certificates and the authorization header to a request. */
  apply(options: CredentialedOptions): Promise<void>;
}

/** A credentials problem (no token, unreadable CA): the requests fail with it, the agent retries. */
export class KubeCredentialsError extends PodtraceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/**
 * The pod's own service account (the DaemonSet's case): the API server at
 * KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, trusted by the mounted ca.crt, with the mounted
 * token as bearer. The token is projected and rotated by the kubelet, so it is re-read when the file
 * changed, at most once per TOKEN_REREAD_MS. Needs no Kubernetes client library: loading
 * @kubernetes/client-node costs the agent ~80 MB of RSS and ~26 MB of live heap.
 */
export class InClusterCredentials implements KubeCredentials {
  readonly server: URL;
  readonly clusterName = 'in-cluster';
  readonly proxyUrl = undefined;
  private token = '';
  private ca: Buffer | null = null;
  private readAt = -Infinity;
  private tokenMtimeMs = -1;
  private readError: string | null = null;

  constructor(
    host: string,
    port: string,
    private readonly dir: string = SERVICE_ACCOUNT_DIR,
    private readonly now: () => number = Date.now,
  ) {
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.server = new URL(`https://${h}:${port}`);
    this.refresh();
  }

  apply(options: CredentialedOptions): Promise<void> {
    if (this.now() - this.readAt >= TOKEN_REREAD_MS) this.refresh();
    if (this.token === '')
      return Promise.reject(
        new KubeCredentialsError(
          `${join(this.dir, 'token')}: ${this.readError ?? 'no service account token'} (read again within a minute)`,
        ),
      );
    if (this.ca !== null) options.ca = this.ca;
    options.headers = { ...options.headers, authorization: `Bearer ${this.token}` };
    return Promise.resolve();
  }

  /**
   * Re-reads the token (and the CA beside it) when the token file changed. Never throws: on a read
   * error the last token stays in use, and without one the requests fail (and are retried) until
   * a read succeeds.
   */
  private refresh(): void {
    this.readAt = this.now();
    const tokenFile = join(this.dir, 'token');
    try {
      const mtime = statSync(tokenFile).mtimeMs;
      if (mtime === this.tokenMtimeMs && this.token !== '') return;
      const token = readFileSync(tokenFile, 'utf8').trim();
      const caFile = join(this.dir, 'ca.crt');
      this.ca = existsSync(caFile) ? readFileSync(caFile) : null;
      this.token = token;
      this.tokenMtimeMs = mtime;
      this.readError = null;
    } catch (err) {
      this.readError = `cannot read the service account token: ${errorMessage(err)}`;
    }
  }
}

/** A kubeconfig's current context as client-node applies it (exec plugins, client certificates, tokens). */
export class KubeconfigCredentials implements KubeCredentials {
  readonly server: URL;
  readonly clusterName: string;
  readonly proxyUrl: string | undefined;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new PodtraceError('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.clusterName = cluster.name;
    this.proxyUrl = cluster.proxyUrl;
  }

  apply(options: CredentialedOptions): Promise<void> {
    return this.kc.applyToHTTPSOptions(options);
  }
}

/** In-cluster credentials when the pod has a service account token and the API server's address. */
export function inClusterCredentials(
  env: NodeJS.ProcessEnv,
  dir: string = SERVICE_ACCOUNT_DIR,
): InClusterCredentials | null {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host === undefined || host === '' || !existsSync(join(dir, 'token'))) return null;
  return new InClusterCredentials(host, env.KUBERNETES_SERVICE_PORT ?? '443', dir);
}
