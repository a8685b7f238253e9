/**
 * Memory under metadata load: the real PodEnricher, fed by the test Kubernetes API server (run by
 * bench/workers/kube-api-worker.ts in another process) and a cgroup tree in a temp directory with
 * one cgroup per container of this node's pods. Starts the enricher, waits for the pod list and
 * every owner lookup, sends one event per container through it, and reports RSS and heap before
 * and after. Run with --expose-gc.
 */
import { Subject } from 'rxjs';
import { silentLogger } from '../../src/core/logger';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import type { EventBatch, PodtraceEvent } from '../../src/events/event';
import { Metrics } from '../../src/telemetry/metrics';
import { FakeNode, NO_FILTER, enrichConfig, execEvent } from '../../test/enrich/enrich-fixtures';
import { containerIdOf, podUidOf } from './kube-api-worker';

export interface MemoryArgs {
  /**
   * `in-cluster`: the DaemonSet's path (service account mount, KUBERNETES_SERVICE_HOST/PORT, no
   * Kubernetes client library); `kubeconfig`: a kubeconfig file, applied by @kubernetes/client-node.
   */
  credentials: 'in-cluster' | 'kubeconfig';
  kubeconfig: string;
  serviceAccountDir: string;
  port: number;
  node: string;
  pods: number;
  containersPerPod: number;
}

export interface MemoryResult {
  rssBaselineBytes: number;
  rssBytes: number;
  heapUsedDeltaBytes: number;
  /** RSS (no GC forced) once the pod list is in and once every owner is settled: where the growth comes from. */
  rssSyncedBytes: number;
  rssOwnersBytes: number;
  pods: number;
  containers: number;
  ownersCached: number;
  complete: number;
  withWorkload: number;
}

const cgroupPath = (p: number, c: number): string =>
  `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUidOf(p).replace(/-/g, '_')}.slice/cri-containerd-${containerIdOf(p, c)}.scope`;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

async function until(cond: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as MemoryArgs;
  const t00 = Date.now();
  const fake = new FakeNode();
  try {
    const cgroups: { id: number; pid: number }[] = [];
    for (let p = 0; p < args.pods; p++)
      for (let c = 0; c < args.containersPerPod; c++) {
        const path = cgroupPath(p, c);
        cgroups.push({ id: fake.cgroup(path), pid: fake.process(path) });
      }
    if (process.env.PT_BENCH_TRACE === '1') process.stderr.write(`cgroups made in ${Date.now() - t00} ms\n`);
    // With a kubeconfig the Kubernetes client is loaded before the baseline (the delta is the
    // enricher's state); in-cluster the agent never loads it.
    if (args.credentials === 'kubeconfig') await import('@kubernetes/client-node');
    else {
      process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = String(args.port);
    }
    gc();
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const phase = (what: string): void => {
      if (process.env.PT_BENCH_TRACE === '1') process.stderr.write(`${what} at ${Date.now() - t0} ms\n`);
    };
    const heap0 = process.memoryUsage().heapUsed;
    const enricher = new PodEnricher(
      enrichConfig({
        cgroupBase: fake.cgroupBase,
        procBase: fake.procBase,
        holdMs: 60_000,
        cri: { enabled: false },
        kubernetes: { kubeconfig: args.credentials === 'kubeconfig' ? args.kubeconfig : '' },
      }),
      NO_FILTER,
      {
        logger: silentLogger(),
        metrics: new Metrics(),
        nodeName: args.node,
        serviceAccountDir: args.serviceAccountDir,
      },
    );
    const input = new Subject<EventBatch>();
    const out: PodtraceEvent[] = [];
    const sub = enricher.attach(input).subscribe((b) => out.push(...b.events));
    await enricher.start();
    await until(() => enricher.kube.synced, 'the pod list');
    const rssSynced = process.memoryUsage().rss;
    phase('synced');
    await until(() => {
      for (let p = 0; p < args.pods; p++) {
        const uid = podUidOf(p);
        if (enricher.kube.podByUid(uid) === undefined || !enricher.kube.ownerSettled(uid)) return false;
      }
      return true;
    }, 'every pod and owner');
    const rssOwners = process.memoryUsage().rss;
    phase('owners');
    for (let i = 0; i < cgroups.length; i += 1000)
      input.next({ events: cgroups.slice(i, i + 1000).map((g) => execEvent(g.id, g.pid)) });
    await until(() => out.length === cgroups.length, 'one event per container out');
    phase('events');
    gc();
    const mem = process.memoryUsage();
    const result: MemoryResult = {
      rssBaselineBytes: rss0,
      rssBytes: mem.rss,
      heapUsedDeltaBytes: mem.heapUsed - heap0,
      rssSyncedBytes: rssSynced,
      rssOwnersBytes: rssOwners,
      pods: args.pods,
      containers: cgroups.length,
      ownersCached: enricher.kube.ownersCached,
      complete: out.filter((e) => e.enrichment === 'complete').length,
      withWorkload: out.filter(
        (e) =>
          e.meta?.attributes['k8s.deployment.name'] !== undefined ||
          e.meta?.attributes['k8s.cronjob.name'] !== undefined,
      ).length,
    };
    input.complete();
    await enricher.shutdown();
    phase('shutdown');
    sub.unsubscribe();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    fake.cleanup();
  }
}

main().then(
  // The Kubernetes client's idle keep-alive connections would hold the process a few seconds more.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
