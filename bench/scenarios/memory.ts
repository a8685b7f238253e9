import { runWorker } from '../lib/proc';
import { fmtMb, median } from '../lib/stats';
import type { MemoryResult } from '../workers/memory-worker';
import type { BenchContext, ScenarioResult } from './types';

/**
 * Scenario 5, memory under metadata load — PROVISIONAL: the structures are shaped like the
 * enricher's caches (informer pod store, per-container metadata, cgroup map) until the real
 * enricher is merged; then build them through its own caches instead.
 */
export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const args = ctx.smoke
    ? { pods: 500, containersPerPod: 2, cgroups: 10_000 }
    : { pods: 5000, containersPerPod: 2, cgroups: 100_000 };
  const runs: MemoryResult[] = [];
  for (let rep = 0; rep < ctx.reps; rep++)
    runs.push(await runWorker<MemoryResult>('memory-worker', args, ['--expose-gc']));
  const rss = median(runs.map((r) => r.rssBytes));
  const base = median(runs.map((r) => r.rssBaselineBytes));
  const heap = median(runs.map((r) => r.heapUsedDeltaBytes));
  ctx.log(`  memory: RSS ${fmtMb(rss)} (baseline ${fmtMb(base)})`);
  return {
    name: 'memory',
    rows: [
      {
        scenario: '5 memory (provisional)',
        case: `${args.pods} pods, ${args.cgroups} cgroups: RSS`,
        value: fmtMb(rss),
        detail: `+${fmtMb(rss - base)} over an idle process (${fmtMb(base)}); heap +${fmtMb(heap)}; stand-in caches, not the real enricher`,
      },
    ],
    data: { args, runs },
  };
}
