import { SINK_FACTORIES, sinkFactory } from '../lib/sink-factories';
import { runWorker } from '../lib/proc';
import { fmtMb, fmtMs, fmtRate, median } from '../lib/stats';
import type { PipelineArgs, PipelineResult } from '../workers/pipeline-worker';
import type { BenchContext, Row, ScenarioResult } from './types';

export const BENCH_PODS = 200;
export const BENCH_CONTAINERS_PER_POD = 2;
export const LATENCY_RATE = 20_000;

export interface SinkSet {
  label: string;
  sinks: string[];
}

/** Every available sink alone, then the production exporters together; `withBaseline` adds the no-sink run. */
export function sinkSets(withBaseline: boolean): { sets: SinkSet[]; missing: Row[] } {
  const missing = SINK_FACTORIES.filter((f) => f.missing() !== null).map((f) => ({
    scenario: '3/4 sinks',
    case: f.name,
    value: 'n/a',
    detail: f.missing() ?? '',
  }));
  const ok = SINK_FACTORIES.filter((f) => f.missing() === null);
  const sets: SinkSet[] = withBaseline ? [{ label: 'no sink (decode + enrich)', sinks: [] }] : [];
  for (const f of ok.filter((x) => x.alone)) sets.push({ label: f.name, sinks: [f.name] });
  const all = ok.filter((x) => x.inAll).map((f) => f.name);
  if (all.length > 1) sets.push({ label: `all (${all.join(' + ')})`, sinks: all });
  return { sets, missing };
}

function args(set: SinkSet, rate: number, seconds: number, latency = false): PipelineArgs {
  return {
    rate,
    seconds,
    sinks: set.sinks,
    pods: BENCH_PODS,
    containersPerPod: BENCH_CONTAINERS_PER_POD,
    latency,
  };
}

const round = (n: number): number => Math.max(1000, Math.round(n / 1000) * 1000);

/** Factors of the capacity tried above it, in order, while each stays loss-free. */
const CLIMB = [1.0, 1.25, 1.5, 2, 2.5, 3];

/**
 * Offers rising multiples of the capacity for one step each until one loses events; returns the
 * loss-free ones, highest first (empty when even the capacity lost events).
 */
async function climb(
  ctx: BenchContext,
  set: SinkSet,
  capacity: number,
  stepSeconds: number,
  tried: PipelineResult[],
): Promise<number[]> {
  const ok: number[] = [];
  for (const f of CLIMB) {
    const rate = round(capacity * f);
    const step = await runWorker<PipelineResult>('pipeline-worker', args(set, rate, stepSeconds));
    tried.push(step);
    ctx.log(
      `    ${fmtRate(rate)} for ${stepSeconds}s: ${step.zeroLoss ? 'zero loss' : `lost ${step.lost}, dropped ${step.dropped}`}`,
    );
    if (!step.zeroLoss) break;
    ok.unshift(f);
  }
  return ok;
}

/**
 * Scenario 3, pipeline throughput: synthetic source (raw records, 200 pods × 2 containers) →
 * RecordDecoder → warm-cache enrichment → sinks. Capacity: offered as fast as possible. Sustained:
 * the highest offered rate with zero loss (nothing lost in the emulated ring, nothing dropped, every
 * sink acknowledged every event), found on a ladder and confirmed over a long run. The ladder starts
 * at the capacity; when that is loss-free it climbs (a flood of events can deliver less than a paced
 * rate: buffers fill, drops and GC cost CPU), then descends from the highest loss-free rung.
 */
export async function pipelineScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const capSeconds = ctx.smoke ? 1 : 5;
  const stepSeconds = ctx.smoke ? 1 : 5;
  const confirmSeconds = ctx.smoke ? 0 : 30;
  const { sets, missing } = sinkSets(true);
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const set of sets) {
    const caps: PipelineResult[] = [];
    for (let rep = 0; rep < ctx.reps; rep++)
      caps.push(await runWorker<PipelineResult>('pipeline-worker', args(set, 0, capSeconds)));
    const capacity = median(caps.map((c) => c.deliveredPerSec));
    ctx.log(`  pipeline ${set.label}: capacity ${fmtRate(capacity)}`);
    // Smoke runs only check that every sink set runs: capacity, no ladder.
    const tried: PipelineResult[] = [];
    const climbed = ctx.smoke ? [] : await climb(ctx, set, capacity, stepSeconds, tried);
    // The climb always tries 1.0 first: loss-free, it heads `climbed`; not, it is not tried again.
    const ladder = ctx.smoke ? [] : [...climbed, 0.8, 0.6, 0.4, 0.2, 0.1];
    let confirms = 0;
    let sustained: PipelineResult | undefined;
    for (let i = 0; i < ladder.length && !sustained; i++) {
      const rate = round(capacity * (ladder[i] as number));
      // Rungs the climb already passed go straight to the long run.
      const climbedRung = i < climbed.length;
      if (!climbedRung) {
        const step = await runWorker<PipelineResult>('pipeline-worker', args(set, rate, stepSeconds));
        tried.push(step);
        ctx.log(
          `    ${fmtRate(rate)} for ${stepSeconds}s: ${step.zeroLoss ? 'zero loss' : `lost ${step.lost}, dropped ${step.dropped}`}`,
        );
        if (!step.zeroLoss) continue;
        if (confirmSeconds === 0 || confirms === 2) {
          sustained = step;
          break;
        }
      }
      if (confirms === 2) continue;
      confirms++;
      const confirm = await runWorker<PipelineResult>('pipeline-worker', args(set, rate, confirmSeconds));
      tried.push(confirm);
      ctx.log(
        `    ${fmtRate(rate)} for ${confirmSeconds}s: ${confirm.zeroLoss ? 'zero loss' : `lost ${confirm.lost}, dropped ${confirm.dropped}`}`,
      );
      if (confirm.zeroLoss) sustained = confirm;
    }
    rows.push({
      scenario: '3 pipeline',
      case: `${set.label}: capacity`,
      value: fmtRate(capacity),
      detail: `as fast as possible; ${median(caps.map((c) => c.cpuSecondsPerMillion)).toFixed(2)} CPU-s/M events; peak RSS ${fmtMb(median(caps.map((c) => c.maxRssBytes)))}`,
    });
    rows.push({
      scenario: '3 pipeline',
      case: `${set.label}: sustained, zero loss`,
      value: sustained ? fmtRate(sustained.rate) : ctx.smoke ? 'n/a' : 'none',
      detail: ctx.smoke
        ? 'not measured in --smoke'
        : sustained
          ? `${sustained.seconds.toFixed(0)} s; ${sustained.cpuSecondsPerMillion.toFixed(2)} CPU-s/M events; peak RSS ${fmtMb(sustained.maxRssBytes)}`
          : 'no tried rate was loss-free',
    });
    data[set.label] = { capacityRuns: caps, capacity, ladder: tried, sustained: sustained ?? null };
  }
  rows.push(...missing);
  return { name: 'pipeline', rows, data };
}

/**
 * Scenario 4, end-to-end latency at a fixed offered rate: each synthetic event is stamped with the
 * boot-clock time it became due (as the kernel stamps records) and measured at the sink's
 * acknowledgement on the same clock. The source wakes every 2 ms like the eBPF drain thread.
 */
export async function latencyScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.smoke ? 1 : 10;
  const { sets } = sinkSets(false);
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const set of sets) {
    const runs: PipelineResult[] = [];
    for (let rep = 0; rep < ctx.reps; rep++)
      runs.push(await runWorker<PipelineResult>('pipeline-worker', args(set, LATENCY_RATE, seconds, true)));
    const lat = (k: 'p50' | 'p99' | 'max'): number => median(runs.map((r) => r.latencyMs?.[k] ?? NaN));
    const lossFree = runs.every((r) => r.zeroLoss);
    ctx.log(
      `  latency ${set.label}: p50 ${fmtMs(lat('p50'))} p99 ${fmtMs(lat('p99'))} max ${fmtMs(lat('max'))}`,
    );
    rows.push({
      scenario: '4 latency',
      case: `${set.label} @ ${LATENCY_RATE / 1000}k ev/s: p50 / p99 / max`,
      value: `${fmtMs(lat('p50'))} / ${fmtMs(lat('p99'))} / ${fmtMs(lat('max'))}`,
      detail: `${seconds} s runs, median of ${runs.length}; ${lossFree ? 'zero loss' : 'LOSS in some run'}; acks ${set.sinks.map((n) => sinkFactory(n).ackPrecision).join('/')}`,
    });
    data[set.label] = runs;
  }
  return { name: 'latency', rows, data };
}
