import { NODE, lastJson, runWorker, start, waitForOutput, workerPath } from '../lib/proc';
import { fmtMb, median } from '../lib/stats';
import type { KubeApiArgs, KubeApiReport } from '../workers/kube-api-worker';
import type { MemoryArgs, MemoryResult } from '../workers/memory-worker';
import type { BenchContext, Row, ScenarioResult } from './types';

const BENCH_NODE = 'bench-node';

interface ClusterRun {
  cluster: KubeApiArgs;
  credentials: MemoryArgs['credentials'];
  runs: MemoryResult[];
  requests: KubeApiReport;
}

interface KubeApiReady {
  kubeconfig: string;
  serviceAccountDir: string;
  port: number;
}

/**
 * One cluster size: its API server in a process of its own, the enricher measured `reps` times
 * with each of `credentials` (alternating).
 */
async function runCluster(
  ctx: BenchContext,
  cluster: KubeApiArgs,
  credentials: MemoryArgs['credentials'][],
): Promise<ClusterRun[]> {
  const api = start(NODE, [workerPath('kube-api-worker'), JSON.stringify(cluster)]);
  try {
    await waitForOutput(api, /"kubeconfig"/, 'kube-api-worker', 120_000);
    const ready = lastJson<KubeApiReady>(api.stdout(), 'kube-api-worker');
    const runs = new Map<MemoryArgs['credentials'], MemoryResult[]>(credentials.map((c) => [c, []]));
    for (let rep = 0; rep < ctx.reps; rep++)
      for (const c of credentials) {
        const args: MemoryArgs = {
          ...ready,
          credentials: c,
          node: BENCH_NODE,
          pods: cluster.nodePods,
          containersPerPod: 2,
        };
        runs.get(c)?.push(await runWorker<MemoryResult>('memory-worker', args, ['--expose-gc']));
      }
    api.proc.stdin?.write('report\n');
    await waitForOutput(api, /"requests"/, 'kube-api-worker report');
    const { requests } = lastJson<{ requests: KubeApiReport }>(api.stdout(), 'kube-api-worker report');
    return credentials.map((c) => ({ cluster, credentials: c, runs: runs.get(c) ?? [], requests }));
  } finally {
    api.proc.kill();
    await api.exited;
  }
}

/**
 * Scenario 5, memory under metadata load: the real PodEnricher with this node's pods (5,000, two
 * containers each) in a small cluster (500 ReplicaSets, 200 Jobs) and in a large one (50,000
 * ReplicaSets, 20,000 Jobs). Owners are looked up per owner of this node's pods, so the RSS must
 * be the same in both.
 */
export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const nodePods = ctx.smoke ? 200 : 5000;
  const sizes: KubeApiArgs[] = ctx.smoke
    ? [
        { node: BENCH_NODE, nodePods, clusterReplicaSets: 200, clusterJobs: 100 },
        { node: BENCH_NODE, nodePods, clusterReplicaSets: 2_000, clusterJobs: 1_000 },
      ]
    : [
        { node: BENCH_NODE, nodePods, clusterReplicaSets: 500, clusterJobs: 200 },
        { node: BENCH_NODE, nodePods, clusterReplicaSets: 50_000, clusterJobs: 20_000 },
      ];
  // In-cluster is how the DaemonSet runs; the kubeconfig path (client-node loaded) beside it on the small cluster.
  const results: ClusterRun[] = [];
  for (const [i, size] of sizes.entries())
    results.push(...(await runCluster(ctx, size, i === 0 ? ['in-cluster', 'kubeconfig'] : ['in-cluster'])));
  const rows: Row[] = results.map((r) => {
    const rss = median(r.runs.map((x) => x.rssBytes));
    const base = median(r.runs.map((x) => x.rssBaselineBytes));
    const heap = median(r.runs.map((x) => x.heapUsedDeltaBytes));
    const synced = median(r.runs.map((x) => x.rssSyncedBytes));
    const owners = median(r.runs.map((x) => x.rssOwnersBytes));
    const last = r.runs[r.runs.length - 1] as MemoryResult;
    const q = r.requests;
    ctx.log(
      `  memory [${r.credentials}]: ${r.cluster.clusterReplicaSets} RS / ${r.cluster.clusterJobs} Jobs cluster-wide: RSS ${fmtMb(rss)}`,
    );
    return {
      scenario: '5 memory',
      case: `${nodePods} pods on the node, cluster ${r.cluster.clusterReplicaSets.toLocaleString('en-US')} RS / ${r.cluster.clusterJobs.toLocaleString('en-US')} Jobs, ${r.credentials}: RSS`,
      value: fmtMb(rss),
      detail:
        `+${fmtMb(rss - base)} over the idle worker (${fmtMb(base)}); heap +${fmtMb(heap)}; ` +
        `RSS ${fmtMb(synced)} after the pod list, ${fmtMb(owners)} after the owners; ` +
        `${last.containers} containers, ${last.complete} complete, ${last.withWorkload} with Deployment/CronJob, ` +
        `${last.ownersCached} owners cached; API: ${q.ownerGets} owner GETs (${q.ownerGetsMetadataOnly} metadata-only), ` +
        `${q.ownerListsAndWatches} RS/Job lists+watches`,
    };
  });
  const [small, large] = results
    .filter((r) => r.credentials === 'in-cluster')
    .map((r) => median(r.runs.map((x) => x.rssBytes)));
  if (small !== undefined && large !== undefined)
    rows.push({
      scenario: '5 memory',
      case: 'RSS, large cluster minus small cluster',
      value: `${large >= small ? '+' : '−'}${fmtMb(Math.abs(large - small))}`,
      detail: 'same node, same pods: what the cluster-wide ReplicaSet/Job count costs the agent',
    });
  return { name: 'memory', rows, data: { results } };
}
