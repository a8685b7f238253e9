import { KubeRequestError } from './kube-metadata-client';
import type { KubeMetadataClient } from './kube-metadata-client';
import { slimPod } from './slim-pod';
import type { RawPod, SlimPod } from './slim-pod';

/** One page of 500 pods with their managedFields stays far below this; a bigger answer is refused. */
export const MAX_POD_PAGE_BYTES = 64 * 1024 * 1024;
/** A pod is at most ~1.5 MB in etcd; one watch event is refused past this. */
export const MAX_POD_WATCH_EVENT_BYTES = 16 * 1024 * 1024;
/** The server ends a watch after a random 5–10 min (`timeoutSeconds`); it is then resumed from its resourceVersion. */
const WATCH_TIMEOUT_MIN_S = 300;
const WATCH_TIMEOUT_MAX_S = 600;
/** No byte for this long past the watch's own timeout: the connection is dead, not quiet. */
const WATCH_IDLE_GRACE_MS = 60_000;
/** A watch that ends sooner than this counts as a failure (backoff), so a closing server is not hammered. */
const MIN_HEALTHY_WATCH_MS = 1000;

export interface PodListWatchOptions {
  nodeName: string;
  pageSize: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A watch's server-side timeout in seconds; default a random 300–600 (tests shorten it). */
  watchTimeoutSeconds?: () => number;
}

export interface PodListWatchHandlers {
  /** A complete list: every pod on the node now, replacing what was known before. */
  listed(pods: SlimPod[]): void;
  /** A watch event: the pod added or changed, or removed. */
  changed(pod: SlimPod, removed: boolean): void;
  /** A list page or watch failed (`reason`: `http_503`, `unreachable`, `timeout` …); retried after `retryInMs`. */
  failed(reason: string, err: unknown, retryInMs: number): void;
  /** The list or watch's resourceVersion expired (410 Gone): what is known is listed again. */
  expired(during: 'list' | 'watch'): void;
}

interface RawPodList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: RawPod[];
}

interface RawWatchEvent {
  type?: string;
  object?: RawPod & { code?: number; reason?: string; message?: string };
}

/** The resourceVersion (of a list, a watch or a continue token) is too old: only a fresh list helps. */
class ExpiredError extends Error {}

function isExpired(err: unknown): boolean {
  return err instanceof ExpiredError || (err instanceof KubeRequestError && err.status === 410);
}

/**
 * The pods of this node (fieldSelector spec.nodeName=<node>) listed in pages (`limit`, `continue`)
 * and then watched from the list's resourceVersion, parsed from the raw JSON into slim copies: no
 * client-node model objects, no cache of whole pods, at most one page of JSON alive at a time.
 *
 * Unhappy paths: a continue token or a watch's resourceVersion that expired (HTTP 410 or an ERROR
 * event with code 410) relists from the first page at once; any other failure (server down,
 * 5xx, 403, a dead connection) keeps what is known and retries the same page, or the watch from
 * its last resourceVersion, after an exponential backoff. A watch the server ends (its timeout)
 * resumes from the last resourceVersion seen (events or bookmarks), without a relist.
 */
export class PodListWatch {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private backoffMs: number;
  /** Complete lists so far. */
  lists = 0;
  /** Watches opened so far. */
  watches = 0;

  constructor(
    private readonly client: KubeMetadataClient,
    private readonly options: PodListWatchOptions,
    private readonly handlers: PodListWatchHandlers,
  ) {
    this.backoffMs = options.backoffInitialMs;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts the open request and waits for the loop to end; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let rv: string | null = null;
    while (!this.stopped) {
      try {
        rv ??= await this.list();
        rv = await this.watchFrom(rv);
      } catch (err) {
        if (this.stopped) return;
        if (isExpired(err)) {
          this.handlers.expired(rv === null ? 'list' : 'watch');
          rv = null;
          continue;
        }
        await this.backoff(err);
      }
    }
  }

  /** Every page of the list; returns the list's resourceVersion. */
  private async list(): Promise<string> {
    const pods: SlimPod[] = [];
    let token = '';
    let rv = '';
    for (;;) {
      const q = new URLSearchParams({
        fieldSelector: `spec.nodeName=${this.options.nodeName}`,
        limit: String(this.options.pageSize),
      });
      if (token !== '') q.set('continue', token);
      let page: RawPodList;
      try {
        page = await this.client.getJson<RawPodList>(`/api/v1/pods?${q.toString()}`, {
          maxBytes: MAX_POD_PAGE_BYTES,
          signal: this.abort.signal,
        });
      } catch (err) {
        if (this.stopped) throw err;
        if (isExpired(err) && token !== '') {
          // The continue token outlived the server's compaction: start the list over.
          this.handlers.expired('list');
          pods.length = 0;
          token = '';
          rv = '';
          continue;
        }
        // The same page again after the backoff (its token stays valid for minutes; if not, 410 above).
        await this.backoff(err);
        if (this.stopped) throw err;
        continue;
      }
      if (rv === '') rv = page.metadata?.resourceVersion ?? '';
      for (const item of page.items ?? []) pods.push(slimPod(item));
      token = page.metadata?.continue ?? '';
      if (token === '') break;
    }
    this.lists++;
    this.backoffMs = this.options.backoffInitialMs;
    this.handlers.listed(pods);
    return rv;
  }

  /** One watch from `rv`; returns the last resourceVersion seen when the server ends it. */
  private async watchFrom(rv: string): Promise<string> {
    let last = rv;
    /** The first failure the stream reported (set from the line callback). */
    const seen: { failure: Error | null } = { failure: null };
    const timeoutS =
      this.options.watchTimeoutSeconds?.() ??
      WATCH_TIMEOUT_MIN_S + Math.floor(Math.random() * (WATCH_TIMEOUT_MAX_S - WATCH_TIMEOUT_MIN_S));
    const q = new URLSearchParams({
      fieldSelector: `spec.nodeName=${this.options.nodeName}`,
      watch: 'true',
      resourceVersion: rv,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeoutS),
    });
    const startedAt = Date.now();
    this.watches++;
    await this.client.watch(
      `/api/v1/pods?${q.toString()}`,
      (line) => {
        let e: RawWatchEvent;
        try {
          e = JSON.parse(line) as RawWatchEvent;
        } catch (err) {
          seen.failure ??= new KubeRequestError(`pods watch: an event is not JSON`, 'bad_response', 200, err);
          return;
        }
        const o = e.object;
        if (e.type === 'ERROR') {
          seen.failure ??=
            o?.code === 410
              ? new ExpiredError(o.message ?? 'resourceVersion expired')
              : new KubeRequestError(
                  `pods watch: ERROR ${o?.code ?? '?'} ${o?.reason ?? ''} ${o?.message ?? ''}`.trim(),
                  `http_${o?.code ?? 0}`,
                  o?.code ?? null,
                );
          return;
        }
        const eventRv = o?.metadata?.resourceVersion;
        if (eventRv !== undefined && eventRv !== '') last = eventRv;
        if (o === undefined || e.type === 'BOOKMARK') return;
        if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED')
          this.handlers.changed(slimPod(o), e.type === 'DELETED');
      },
      {
        maxLineBytes: MAX_POD_WATCH_EVENT_BYTES,
        idleMs: timeoutS * 1000 + WATCH_IDLE_GRACE_MS,
        signal: this.abort.signal,
      },
    );
    if (seen.failure !== null) throw seen.failure;
    if (Date.now() - startedAt < MIN_HEALTHY_WATCH_MS && !this.stopped) {
      // Ended at once without an error: wait before the next one, as after a failure.
      await this.backoff(
        new KubeRequestError('pods watch ended at once', 'watch_closed', null),
        /* count */ false,
      );
    } else this.backoffMs = this.options.backoffInitialMs;
    return last;
  }

  /** Reports `err` and sleeps the current backoff (woken by stop), then doubles it. */
  private async backoff(err: unknown, report = true): Promise<void> {
    const ms = this.backoffMs;
    if (report) this.handlers.failed(err instanceof KubeRequestError ? err.reason : 'unreachable', err, ms);
    this.backoffMs = Math.min(ms * 2, this.options.backoffMaxMs);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
  }
}
