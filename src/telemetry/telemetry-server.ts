import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Component } from '../core/component';
import { onceShutdown } from '../core/component';
import { PermanentError, errorMessage } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Metrics } from './metrics';
import type { Readiness } from './readiness';

export interface TelemetryServerOptions {
  /** `host:port`; IPv6 hosts in brackets (`[::1]:9464`). Port 0 picks a free port (tests). */
  listen: string;
  metrics: Metrics;
  readiness: Readiness;
  logger: Logger;
}

/** Splits `host:port` / `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (m === null || port > 65535)
    throw new PermanentError(`telemetry.listen: ${JSON.stringify(listen)} is not host:port`);
  return { host: (m[1] ?? m[2]) as string, port };
}

const KNOWN_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * Self-telemetry over HTTP on `telemetry.listen`:
 * - `GET /metrics`: the Prometheus registry of `Metrics` (text exposition format);
 * - `GET /healthz`: 200 while the process serves requests (liveness);
 * - `GET /readyz`: 200 when every `Readiness` check passes, else 503; the JSON body names each check.
 */
export class TelemetryServer implements Component {
  readonly name = 'telemetry';
  private server: Server | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: TelemetryServerOptions) {
    parseListen(options.listen); // reject a bad address at construction, before anything starts
    this.log = options.logger.child({ component: 'telemetry' });
  }

  /** Resolves once the socket listens; rejects (naming telemetry.listen) when it cannot bind. */
  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return (this.starting ??= this.listen());
  }

  /** The bound address once started (the real port when `listen` asked for port 0). */
  address(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') return undefined;
    return { host: a.address, port: a.port };
  }

  readonly shutdown = onceShutdown(async () => {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    const server = this.server;
    if (server === undefined || !server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.log.debug('telemetry server stopped');
  });

  private listen(): Promise<void> {
    const { host, port } = parseListen(this.options.listen);
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5000;
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new PermanentError(
            `telemetry.listen: cannot listen on ${this.options.listen}: ${err.code ?? errorMessage(err)}`,
            err,
          ),
        );
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log.error({ err }, 'telemetry server error'));
        this.log.info({ address: this.address() }, 'serving /metrics, /healthz, /readyz');
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const label = KNOWN_PATHS.has(path) ? path : 'other';
    const send = (code: number, type: string, body: string): void => {
      this.options.metrics.telemetryRequests.inc({ path: label, code: String(code) });
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (code: number, body: unknown): void =>
      send(code, 'application/json', `${JSON.stringify(body)}\n`);

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      json(405, { error: `${req.method ?? ''} not allowed` });
      return;
    }
    switch (path) {
      case '/healthz':
        // Always 200 while serving (liveness); the sinks' health is detail, not a verdict.
        json(200, { status: 'ok', components: this.options.readiness.health() });
        return;
      case '/readyz': {
        const report = this.options.readiness.evaluate();
        json(report.ready ? 200 : 503, report);
        return;
      }
      case '/metrics': {
        this.options.readiness.evaluate(); // refresh podtrace_ready before the scrape
        this.options.readiness.health(); // and podtrace_component_healthy
        const registry = this.options.metrics.registry;
        registry.metrics().then(
          (text) => send(200, registry.contentType, text),
          (err: unknown) => {
            this.log.error({ err }, 'collecting metrics failed');
            json(500, { error: errorMessage(err) });
          },
        );
        return;
      }
      default:
        json(404, { error: `no such endpoint ${path}; try /metrics, /healthz or /readyz` });
    }
  }
}
