/**
 * One pipeline run in its own process (so CPU and peak RSS are this run's alone):
 * synthetic source → RecordDecoder → StaticEnricher (warm cache) → the named sinks.
 * Prints one JSON line with what it measured.
 */
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { Pipeline } from '../../src/pipeline/pipeline';
import { SyntheticSource } from '../../src/sources/synthetic-source';
import { Metrics } from '../../src/telemetry/metrics';
import { benchMapping, sinkFactory } from '../lib/sink-factories';
import type { BenchSink } from '../lib/sink-factories';
import { percentileSorted } from '../lib/stats';
import { StaticEnricher } from '../lib/static-enricher';

export interface PipelineArgs {
  /** Offered events/s; 0 = as fast as the pipeline takes them. */
  rate: number;
  seconds: number;
  sinks: string[];
  pods: number;
  containersPerPod: number;
  /** Record per-event latency (kernel-side timestamp → sink acknowledgement). */
  latency: boolean;
}

export interface PipelineResult {
  rate: number;
  sinks: string[];
  seconds: number;
  produced: number;
  lost: number;
  dropped: number;
  /** Events acknowledged per sink. */
  acked: Record<string, number>;
  /** Lowest acknowledged count over the sinks per second of run (what the slowest sink delivered). */
  deliveredPerSec: number;
  cpuSeconds: number;
  cpuSecondsPerMillion: number;
  maxRssBytes: number;
  zeroLoss: boolean;
  latencyMs?: { p50: number; p99: number; max: number; samples: number };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as PipelineArgs;
  const logger = silentLogger();
  const metrics = new Metrics();
  const base = validateConfig({ source: { kind: 'synthetic' } }).source.synthetic;
  const source = new SyntheticSource(
    {
      ...base,
      eventsPerSecond: args.rate,
      durationSeconds: args.seconds,
      pods: args.pods,
      containersPerPod: args.containersPerPod,
    },
    { logger, metrics, nodeName: 'bench-node' },
  );
  const enricher = new StaticEnricher(source.workloads.metaByCgroup);
  const built: BenchSink[] = [];
  const mapping = benchMapping(args.sinks, logger);
  for (const name of args.sinks)
    built.push(await sinkFactory(name).create({ logger, metrics, latency: args.latency, mapping }));
  const pipeline = new Pipeline(
    source,
    enricher,
    built.map((b) => b.sink),
    logger,
  );
  let decodedOnly = 0;
  if (args.sinks.length === 0) source.batches$.subscribe((b) => (decodedOnly += b.events.length));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pipeline.start();
  await pipeline.finished;
  await pipeline.shutdown();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const acked: Record<string, number> = {};
  const latencies: Float64Array[] = [];
  for (let i = 0; i < built.length; i++) {
    const r = await (built[i] as BenchSink).results();
    acked[args.sinks[i] as string] = r.acked;
    latencies.push(r.latencyNs);
  }
  for (const b of built) await b.close();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const produced = source.produced;
  const dropped = (await metrics.droppedCount()) - source.lost;
  const delivered = args.sinks.length === 0 ? decodedOnly : Math.min(...Object.values(acked));
  const result: PipelineResult = {
    rate: args.rate,
    sinks: args.sinks,
    seconds,
    produced,
    lost: source.lost,
    dropped,
    acked,
    deliveredPerSec: delivered / seconds,
    cpuSeconds,
    cpuSecondsPerMillion: produced > 0 ? cpuSeconds / (produced / 1e6) : NaN,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    zeroLoss: source.lost === 0 && dropped === 0 && delivered === produced,
  };
  if (args.latency) {
    const all = new Float64Array(latencies.reduce((n, l) => n + l.length, 0));
    let off = 0;
    for (const l of latencies) {
      all.set(l, off);
      off += l.length;
    }
    const sorted = all.sort();
    result.latencyMs = {
      p50: percentileSorted(sorted, 50) / 1e6,
      p99: percentileSorted(sorted, 99) / 1e6,
      max: (sorted[sorted.length - 1] ?? NaN) / 1e6,
      samples: sorted.length,
    };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `pipeline worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
