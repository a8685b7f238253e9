import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Kubernetes object as the test server stores it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

interface Resource {
  kind: string;
  listKind: string;
  apiVersion: string;
  objects: Map<string, KubeObject>;
}

interface Watcher {
  resource: string;
  namespace: string | null;
  fieldSelector: string | null;
  res: ServerResponse;
}

/** One request as the server saw it. */
export interface LoggedRequest {
  method: string;
  /** URL path without the query. */
  path: string;
  query: URLSearchParams;
  accept: string;
  /** `list`, `watch` (collection paths) or `get` (a named object). */
  verb: 'list' | 'watch' | 'get';
  /** The resource's collection path (`/apis/apps/v1/replicasets`), for namespaced paths too. */
  resource: string | null;
  /** Whether the answer was metadata only (PartialObjectMetadata / PartialObjectMetadataList). */
  metadataOnly: boolean;
}

export type ResourcePath = '/api/v1/pods' | '/apis/apps/v1/replicasets' | '/apis/batch/v1/jobs';

/** `as=PartialObjectMetadata` (or …List) in an Accept header, as client-go's metadata client sends it. */
const PARTIAL_METADATA = /as=PartialObjectMetadata(List)?;g=meta\.k8s\.io;v=v1/;

interface LoggedEvent {
  rv: number;
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

/**
 * A Kubernetes API server for tests, on 127.0.0.1 and an ephemeral port, speaking the real REST
 * list + watch protocol for pods (/api/v1/pods), ReplicaSets (/apis/apps/v1/replicasets) and Jobs
 * (/apis/batch/v1/jobs): lists carry metadata.resourceVersion; `?watch=true&resourceVersion=N`
 * replays later events and then streams new ones as chunked JSON lines
 * `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}`; a resourceVersion older than the
 * compaction point gets an ERROR event with a 410 Status (or HTTP 410 with `expireWithHttp`).
 * `fieldSelector=spec.nodeName=X` is honoured; lists page with `limit` + `continue` (a snapshot per
 * paged list, `metadata.continue`, `remainingItemCount` without selectors, 410 Expired for a token
 * older than the last `compact()`). Named GETs (`/apis/apps/v1/namespaces/<ns>/replicasets/<name>`,
 * the same for jobs and pods) answer the object, or its `PartialObjectMetadata` when the Accept
 * header asks for it (`application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`); namespaced
 * lists and watches work too. Every request is logged (`requestLog`); objects can be changed
 * while watches are open; `down()` answers 503 to everything and drops open watches; `fault()`
 * answers a chosen status to requests under a path prefix.
 */
export class KubeApiServer {
  private server: Server | null = null;
  private rv = 100;
  private compactedBefore = 0;
  private readonly log: LoggedEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly resources = new Map<string, Resource>([
    ['/api/v1/pods', { kind: 'Pod', listKind: 'PodList', apiVersion: 'v1', objects: new Map() }],
    [
      '/apis/apps/v1/replicasets',
      { kind: 'ReplicaSet', listKind: 'ReplicaSetList', apiVersion: 'apps/v1', objects: new Map() },
    ],
    ['/apis/batch/v1/jobs', { kind: 'Job', listKind: 'JobList', apiVersion: 'batch/v1', objects: new Map() }],
  ]);
  /** Every request as `METHOD path?query`. */
  readonly requests: string[] = [];
  /** Every request, parsed. */
  readonly requestLog: LoggedRequest[] = [];
  private readonly faults = new Map<string, number>();
  /** `verb group/resource` pairs a SelfSubjectAccessReview answers as denied (`get apps/replicasets`). */
  readonly denied = new Set<string>();
  private unavailable = false;
  private readonly tempDirs: string[] = [];
  /** Paged lists under way: the snapshot each continue token reads from (as etcd serves a paged list at one revision). */
  private readonly pagedLists = new Map<number, { rv: number; items: KubeObject[] }>();
  private nextListId = 1;
  /** Called with every request before it is answered (a test can take the server down between pages). */
  onRequest: ((r: LoggedRequest) => void) | null = null;
  expireWithHttp = false;
  port = 0;

  /** `tls`: serve https with this certificate (PEM file paths; kubeconfigs then name the CA). */
  constructor(private readonly tls?: { cert: string; key: string; ca: string }) {}

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server =
      this.tls === undefined
        ? createServer(handler)
        : createTlsServer({ cert: readFileSync(this.tls.cert), key: readFileSync(this.tls.key) }, handler);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.tls === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}`;
  }

  /** Writes a kubeconfig for this server (through `proxyUrl` when given) and returns its path. */
  writeKubeconfig(opts: { proxyUrl?: string } = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'pt-kubeconfig-'));
    this.tempDirs.push(dir);
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: test\n  cluster:\n    server: ${this.url}\n    ${this.tls === undefined ? 'insecure-skip-tls-verify: true' : `certificate-authority: ${this.tls.ca}`}${opts.proxyUrl === undefined ? '' : `\n    proxy-url: ${opts.proxyUrl}`}`,
        'users:',
        '- name: test\n  user:\n    token: test-token',
        'contexts:',
        '- name: test\n  context:\n    cluster: test\n    user: test',
        'current-context: test',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Requests whose path starts with `prefix` (list and watch, `watch` to count only watches). */
  count(prefix: string, kind: 'list' | 'watch' | 'any' = 'any'): number {
    return this.requests.filter((r) => {
      if (!r.startsWith(`GET ${prefix}`)) return false;
      const isWatch = r.includes('watch=true');
      return kind === 'any' || (kind === 'watch') === isWatch;
    }).length;
  }

  /** Answers `status` to every request whose path starts with `prefix` (null: stop). */
  fault(prefix: string, status: number | null): void {
    if (status === null) this.faults.delete(prefix);
    else this.faults.set(prefix, status);
  }

  /** Logged requests for a resource's collection (list or watch, any namespace) or its named objects. */
  requestsFor(resource: ResourcePath, verb?: LoggedRequest['verb']): LoggedRequest[] {
    return this.requestLog.filter((r) => r.resource === resource && (verb === undefined || r.verb === verb));
  }

  /** Objects of a resource held now. */
  size(resource: ResourcePath): number {
    return (this.resources.get(resource) as Resource).objects.size;
  }

  upsert(resource: ResourcePath, obj: KubeObject): void {
    const r = this.resources.get(resource) as Resource;
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const type = r.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored: KubeObject = structuredClone({ apiVersion: r.apiVersion, kind: r.kind, ...obj });
    stored.metadata.resourceVersion = String(++this.rv);
    r.objects.set(key, stored);
    this.publish({ rv: this.rv, resource, type, object: stored });
  }

  remove(resource: ResourcePath, namespace: string, name: string): void {
    const r = this.resources.get(resource) as Resource;
    const obj = r.objects.get(`${namespace}/${name}`);
    if (obj === undefined) return;
    r.objects.delete(`${namespace}/${name}`);
    const gone: KubeObject = structuredClone(obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.publish({ rv: this.rv, resource, type: 'DELETED', object: gone });
  }

  /** Forgets history: watches from an older resourceVersion get 410 Gone; open watches are closed. */
  compact(): void {
    this.rv += 1;
    this.compactedBefore = this.rv + 1;
    this.log.length = 0;
    // Continue tokens of lists started before read a revision that is gone now: 410 Expired.
    this.pagedLists.clear();
    this.closeWatches();
  }

  /** Simulates an outage: every request gets 503, open watches are cut. */
  down(): void {
    this.unavailable = true;
    this.closeWatches();
  }

  up(): void {
    this.unavailable = false;
  }

  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  async stop(): Promise<void> {
    this.closeWatches();
    for (const d of this.tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
    const s = this.server;
    this.server = null;
    if (s !== null) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  private publish(e: LoggedEvent): void {
    this.log.push(e);
    for (const w of this.watchers) {
      if (
        w.resource === e.resource &&
        (w.namespace === null || w.namespace === e.object.metadata.namespace) &&
        this.selected(e.object, w.fieldSelector)
      ) {
        w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      }
    }
  }

  private selected(obj: KubeObject, fieldSelector: string | null): boolean {
    if (fieldSelector === null || fieldSelector === '') return true;
    for (const term of fieldSelector.split(',')) {
      const [k, v] = term.split('=');
      if (k === 'spec.nodeName' && obj.spec?.nodeName !== v) return false;
      if (k === 'metadata.name' && obj.metadata.name !== v) return false;
      if (k === 'metadata.namespace' && obj.metadata.namespace !== v) return false;
    }
    return true;
  }

  /** SelfSubjectAccessReview: allowed unless `denied` names the verb and group/resource. */
  private accessReview(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        spec?: { resourceAttributes?: { verb?: string; group?: string; resource?: string } };
      };
      const a = review.spec?.resourceAttributes ?? {};
      const allowed = !this.denied.has(`${a.verb ?? ''} ${a.group ?? ''}/${a.resource ?? ''}`);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'SelfSubjectAccessReview',
          apiVersion: 'authorization.k8s.io/v1',
          metadata: {},
          spec: review.spec ?? {},
          status: { allowed, ...(allowed ? {} : { reason: 'no RBAC policy matched' }) },
        }),
      );
    });
  }

  /**
   * One answer to a list: everything without `limit`; with it, `limit` items in key order
   * (namespace/name) from a snapshot taken by the first page, `metadata.continue` while more
   * remain and `remainingItemCount` unless a selector filtered the list (the API server cannot
   * count those either). null: the continue token is unknown or older than the last compaction.
   */
  private listPage(
    q: URLSearchParams,
    matching: () => KubeObject[],
  ): { metadata: Record<string, unknown>; items: KubeObject[] } | null {
    const limit = Number(q.get('limit') ?? '0');
    const token = q.get('continue') ?? '';
    if (token === '' && !(limit > 0))
      return { metadata: { resourceVersion: String(this.rv) }, items: matching() };
    let id: number;
    let start: number;
    if (token === '') {
      id = this.nextListId++;
      start = 0;
      const key = (o: KubeObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
      const items = matching().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      this.pagedLists.set(id, { rv: this.rv, items });
    } else {
      let parsed: { id?: unknown; start?: unknown };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as typeof parsed;
      } catch {
        return null;
      }
      if (typeof parsed.id !== 'number' || typeof parsed.start !== 'number') return null;
      id = parsed.id;
      start = parsed.start;
    }
    const list = this.pagedLists.get(id);
    if (list === undefined) return null;
    const n = limit > 0 ? limit : list.items.length;
    const items = list.items.slice(start, start + n);
    const rest = list.items.length - (start + items.length);
    const metadata: Record<string, unknown> = { resourceVersion: String(list.rv) };
    if (rest > 0) {
      metadata.continue = Buffer.from(JSON.stringify({ id, start: start + items.length })).toString(
        'base64url',
      );
      if ((q.get('fieldSelector') ?? '') === '' && (q.get('labelSelector') ?? '') === '')
        metadata.remainingItemCount = rest;
    } else this.pagedLists.delete(id);
    return { metadata, items };
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
  }

  /**
   * `/api/v1/pods`, `/api/v1/namespaces/<ns>/pods[/<name>]`, the same under `/apis/<group>/<v>/`:
   * the collection path, the namespace (null: all) and the name (null: the collection).
   */
  private route(path: string): { resource: string; namespace: string | null; name: string | null } | null {
    const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(
      path,
    );
    if (m === null) return null;
    const [, prefix, namespace, plural, name] = m;
    const resource = `${prefix ?? ''}/${plural ?? ''}`;
    if (!this.resources.has(resource)) return null;
    if (name !== undefined && namespace === undefined) return null;
    return { resource, namespace: namespace ?? null, name: name ?? null };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const accept = req.headers.accept ?? '';
    const route = this.route(url.pathname);
    const metadataOnly = PARTIAL_METADATA.test(accept);
    this.requests.push(`${req.method ?? 'GET'} ${url.pathname}${url.search}`);
    this.requestLog.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      accept,
      verb: route?.name != null ? 'get' : url.searchParams.get('watch') === 'true' ? 'watch' : 'list',
      resource: route?.resource ?? null,
      metadataOnly,
    });
    this.onRequest?.(this.requestLog[this.requestLog.length - 1] as LoggedRequest);
    if (this.unavailable)
      return this.status(
        res,
        503,
        'ServiceUnavailable',
        'the server is currently unable to handle the request',
      );
    for (const [prefix, code] of this.faults)
      if (url.pathname.startsWith(prefix)) return this.status(res, code, 'Injected', `injected ${code}`);
    if (req.headers.authorization !== 'Bearer test-token')
      return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && req.method === 'POST')
      return this.accessReview(req, res);
    const r = route === null ? undefined : this.resources.get(route.resource);
    if (route === null || r === undefined || req.method !== 'GET')
      return this.status(res, 404, 'NotFound', `${url.pathname} not found`);
    if (route.name !== null) {
      const obj = r.objects.get(`${route.namespace ?? ''}/${route.name}`);
      if (obj === undefined)
        return this.status(res, 404, 'NotFound', `${r.kind.toLowerCase()} "${route.name}" not found`);
      if (metadataOnly) {
        res.writeHead(200, {
          'content-type': 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
        });
        res.end(
          JSON.stringify({
            kind: 'PartialObjectMetadata',
            apiVersion: 'meta.k8s.io/v1',
            metadata: obj.metadata,
          }),
        );
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      }
      return;
    }
    const fieldSelector = url.searchParams.get('fieldSelector');
    const inNamespace = (o: KubeObject): boolean =>
      route.namespace === null || o.metadata.namespace === route.namespace;
    if (url.searchParams.get('watch') !== 'true') {
      const page = this.listPage(url.searchParams, () =>
        [...r.objects.values()].filter((o) => inNamespace(o) && this.selected(o, fieldSelector)),
      );
      if (page === null)
        return this.status(
          res,
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: metadataOnly ? 'PartialObjectMetadataList' : r.listKind,
          apiVersion: metadataOnly ? 'meta.k8s.io/v1' : r.apiVersion,
          metadata: page.metadata,
          items: metadataOnly
            ? page.items.map((o) => ({
                kind: 'PartialObjectMetadata',
                apiVersion: 'meta.k8s.io/v1',
                metadata: o.metadata,
              }))
            : page.items,
        }),
      );
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from !== 0 && from < this.compactedBefore - 1) {
      const message = `too old resource version: ${from} (${this.compactedBefore})`;
      if (this.expireWithHttp) return this.status(res, 410, 'Expired', message);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'Expired', code: 410 } })}\n`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const path = route.resource;
    for (const e of this.log) {
      if (
        e.resource === path &&
        e.rv > from &&
        inNamespace(e.object) &&
        this.selected(e.object, fieldSelector)
      )
        res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    res.write(
      `${JSON.stringify({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: r.apiVersion, metadata: { resourceVersion: String(this.rv) } } })}\n`,
    );
    const w: Watcher = { resource: path, namespace: route.namespace, fieldSelector, res };
    this.watchers.add(w);
    req.on('close', () => this.watchers.delete(w));
  }
}

/** A pod object as kubelet's node would see it, owned by `owner` when given. */
export function podObject(p: {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: { kind: string; name: string };
  containers?: { name: string; image: string; id?: string }[];
}): KubeObject {
  return {
    metadata: {
      name: p.name,
      namespace: p.namespace,
      uid: p.uid,
      labels: p.labels ?? {},
      annotations: p.annotations ?? {},
      ownerReferences:
        p.owner === undefined
          ? []
          : [
              {
                apiVersion: p.owner.kind === 'Job' ? 'batch/v1' : 'apps/v1',
                kind: p.owner.kind,
                name: p.owner.name,
                uid: `${p.owner.name}-uid`,
                controller: true,
              },
            ],
    },
    spec: {
      nodeName: p.nodeName,
      containers: (p.containers ?? []).map((c) => ({ name: c.name, image: c.image })),
    },
    status: {
      phase: 'Running',
      containerStatuses: (p.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        restartCount: 0,
        containerID: c.id === undefined ? undefined : `containerd://${c.id}`,
      })),
    },
  };
}

/** A ReplicaSet or Job object owned by `owner` (Deployment / CronJob). */
export function ownedObject(
  name: string,
  namespace: string,
  owner: { kind: string; name: string } | null,
): KubeObject {
  return {
    metadata: {
      name,
      namespace,
      uid: `${name}-uid`,
      ownerReferences:
        owner === null
          ? []
          : [
              {
                apiVersion: 'apps/v1',
                kind: owner.kind,
                name: owner.name,
                uid: `${owner.name}-uid`,
                controller: true,
              },
            ],
    },
    spec: {},
  };
}
