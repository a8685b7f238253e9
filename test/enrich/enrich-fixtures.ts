import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, lastValueFrom, tap, toArray } from 'rxjs';
import type { FilterConfig } from '../../src/config/config';
import { createLogger, silentLogger } from '../../src/core/logger';
import type { Logger } from '../../src/core/logger';
import type {
  CriConfig,
  EnrichConfig,
  KubeletConfig,
  KubernetesConfig,
} from '../../src/enrich/enrich-config';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import type { EventBatch, OomKillEvent, PodtraceEvent, ProcessExecEvent } from '../../src/events/event';
import { EventKind } from '../../src/events/event-kind';
import { Metrics } from '../../src/telemetry/metrics';

export type EnrichOverrides = Partial<Omit<EnrichConfig, 'cri' | 'kubernetes' | 'kubelet'>> & {
  cri?: Partial<CriConfig>;
  kubernetes?: Partial<KubernetesConfig>;
  kubelet?: Partial<KubeletConfig>;
};

export function enrichConfig(over: EnrichOverrides): EnrichConfig {
  return {
    enabled: true,
    cgroupBase: '',
    cgroupMode: 'auto',
    cgroupV1Controller: 'pids',
    procBase: '/proc',
    holdMs: 2000,
    holdMaxEvents: 65536,
    maxCgroups: 65536,
    deletedGraceSeconds: 60,
    rescanMinIntervalMs: 0,
    ...over,
    cri: {
      enabled: true,
      endpoint: '',
      timeoutMs: 2000,
      relistSeconds: 30,
      containerEvents: true,
      backoffInitialMs: 50,
      backoffMaxMs: 200,
      ...over.cri,
    },
    kubernetes: {
      enabled: true,
      kubeconfig: '',
      labels: [],
      resolveOwners: true,
      ownerTtlSeconds: 600,
      maxOwners: 4096,
      listPageSize: 500,
      backoffInitialMs: 50,
      backoffMaxMs: 200,
      ...over.kubernetes,
    },
    kubelet: { cgroupDriver: '', cgroupRoot: '', detect: false, ...over.kubelet },
  };
}

export const NO_FILTER: FilterConfig = {
  includeHost: true,
  namespaces: [],
  excludeNamespaces: [],
  podSelector: '',
};

/**
 * A cgroup tree in a temp directory (a stand-in for the cgroup2 mount: a directory's inode is its
 * id, as in cgroupfs) and a procBase with `<pid>/cgroup` files pointing into it.
 */
export class FakeNode {
  readonly root = mkdtempSync(join(tmpdir(), 'pt-node-'));
  readonly cgroupBase = join(this.root, 'cgroup');
  readonly procBase = join(this.root, 'proc');
  private nextPid = 1000;

  constructor() {
    mkdirSync(this.cgroupBase, { recursive: true });
    mkdirSync(this.procBase, { recursive: true });
  }

  /** Creates the cgroup directory and returns its id (inode). */
  cgroup(path: string): number {
    const dir = join(this.cgroupBase, path);
    mkdirSync(dir, { recursive: true });
    return statSync(dir).ino;
  }

  /** A process in `path`: returns its pid. */
  process(path: string): number {
    const pid = this.nextPid++;
    mkdirSync(join(this.procBase, String(pid)), { recursive: true });
    writeFileSync(join(this.procBase, String(pid), 'cgroup'), `4:memory:${path}\n0::${path}\n`);
    return pid;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The fields every event fresh from the source has: not enriched yet (`pending`), now, from `pid` in `cgroupId`. */
export function arriving(
  cgroupId: number,
  pid: number,
  comm: string,
): Omit<ProcessExecEvent, 'kind' | 'ppid' | 'parentStartNs' | 'uid' | 'filename' | 'args' | 'argsTruncated'> {
  return {
    timeUnixNs: Date.now() * 1e6,
    bootNs: 1,
    pid,
    tid: pid,
    procStartNs: 1,
    cgroupId,
    comm,
    flags: 0,
    meta: null,
    enrichment: 'pending',
  };
}

export function execEvent(cgroupId: number, pid: number, filename = '/bin/true'): ProcessExecEvent {
  return {
    kind: EventKind.ProcessExec,
    ...arriving(cgroupId, pid, 'true'),
    ppid: 1,
    parentStartNs: 0,
    uid: 0,
    filename,
    args: [filename],
    argsTruncated: false,
  };
}

export function oomEvent(
  cgroupId: number,
  pid: number,
  victimCgroupId: number,
  victimPid: number,
): OomKillEvent {
  return {
    kind: EventKind.OomKill,
    ...arriving(cgroupId, pid, 'stress'),
    victimPid,
    triggerPid: pid,
    victimComm: 'hog',
    victimCgroupId,
    pages: 10,
    rssPages: 5,
  };
}

/** An enricher wired to a Subject: push batches, read what came out. */
export class Harness {
  readonly metrics = new Metrics();
  readonly enricher: PodEnricher;
  readonly input = new Subject<EventBatch>();
  readonly out: PodtraceEvent[] = [];
  readonly batches: EventBatch[] = [];
  /** Resolves with every batch once the output completes. */
  readonly done: Promise<EventBatch[]>;

  constructor(
    config: EnrichConfig,
    filter: FilterConfig = NO_FILTER,
    nodeName = 'node-1',
    logger: Logger = process.env.PT_TEST_LOG === '1'
      ? createLogger({ level: 'debug', destination: process.stderr })
      : silentLogger(),
  ) {
    this.enricher = new PodEnricher(config, filter, { logger, metrics: this.metrics, nodeName });
    const out$ = this.enricher.attach(this.input);
    this.done = lastValueFrom(
      out$.pipe(
        tap((b) => {
          this.batches.push(b);
          this.out.push(...b.events);
        }),
        toArray(),
      ),
    );
  }

  push(events: PodtraceEvent[]): void {
    this.input.next({ events });
  }

  async outcomes(): Promise<Record<string, number>> {
    const data = await this.metrics.enrichment.get();
    return Object.fromEntries(data.values.map((v) => [String(v.labels.outcome), v.value]));
  }

  /** How many lookups the cgroup path resolver answered from `via` (kernel, walk, proc, miss). */
  async resolutions(via: string): Promise<number> {
    const data = await this.metrics.cgroupResolutions.get();
    return data.values.filter((v) => v.labels.via === via).reduce((s, v) => s + v.value, 0);
  }

  async lookupErrors(backend: string): Promise<number> {
    const data = await this.metrics.lookupErrors.get();
    return data.values.filter((v) => v.labels.backend === backend).reduce((s, v) => s + v.value, 0);
  }
}

/** Polls `cond` every 10 ms until it holds (the test's own timeout bounds it). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 20000,
): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
