import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { Pipeline } from '../../src/pipeline/pipeline';
import type { Sink } from '../../src/pipeline/stages';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';

/** `enrich:` for tests without a runtime or an API server: attribution by cgroup path only. */
export const PATHS_ONLY_ENRICH = { cri: { enabled: false }, kubernetes: { enabled: false } } as const;

/** `enrich:` against a real runtime and the test API server (relisting every second). */
export function criAndApiEnrich(criEndpoint: string, kubeconfig: string): Record<string, unknown> {
  return { cri: { endpoint: criEndpoint, relistSeconds: 1 }, kubernetes: { kubeconfig } };
}

export interface EbpfPipeline {
  pipeline: Pipeline;
  source: EbpfSource;
  enricher: PodEnricher;
  metrics: Metrics;
}

/**
 * Starts the agent's real pipeline in this process — eBPF source → PodEnricher → `sinks` — from a
 * raw podtrace.yaml object (validated as the agent does), with silent logs. The node name is the
 * config's `nodeName`, else `n`.
 */
export async function startEbpfPipeline(raw: Record<string, unknown>, sinks: Sink[]): Promise<EbpfPipeline> {
  const config = validateConfig(raw);
  const metrics = new Metrics();
  const source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
  const enricher = new PodEnricher(config.enrich, config.filter, {
    logger: silentLogger(),
    metrics,
    nodeName: config.nodeName ?? 'n',
  });
  const pipeline = new Pipeline(source, enricher, sinks, silentLogger());
  await pipeline.start();
  return { pipeline, source, enricher, metrics };
}
