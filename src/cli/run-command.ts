import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadConfig } from '../config/load-config';
import type { PodtraceConfig } from '../config/config';
import { createLogger } from '../core/logger';
import type { Logger } from '../core/logger';
import { errorMessage } from '../core/errors';
import { Pipeline } from '../pipeline/pipeline';
import type { Enricher, Sink, Source } from '../pipeline/stages';
import { ConsoleSink } from '../sinks/console/console-sink';
import { createOtlpSink } from '../sinks/otlp/otlp-sink';
import { EbpfSource } from '../sources/ebpf-source';
import { Metrics } from '../telemetry/metrics';
import type { RunArgs } from './args';

export const DEFAULT_CONFIG_FILE = 'config/podtrace.yaml';

/** The config file: --config, else config/podtrace.yaml when present, else built-in defaults. */
export function resolveConfig(file: string | undefined): PodtraceConfig {
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  return loadConfig(path);
}

export interface Agent {
  pipeline: Pipeline;
  source: Source;
  sinks: Sink[];
  metrics: Metrics;
  logger: Logger;
  config: PodtraceConfig;
}

/** Builds the agent from a validated config (flags already applied). */
export function buildAgent(config: PodtraceConfig, logger: Logger, metrics: Metrics): Agent {
  const source = new EbpfSource(config.source.ebpf, { logger: logger.child({ component: 'ebpf' }), metrics });
  const sinks: Sink[] = [];
  const nodeName = config.nodeName ?? hostname();
  if (config.sinks.console.enabled) sinks.push(new ConsoleSink(config.sinks.console, { logger, metrics }));
  if (config.sinks.otlp.enabled) {
    sinks.push(
      createOtlpSink(config.sinks.otlp, {
        logger: logger.child({ component: 'otlp' }),
        metrics,
        env: process.env,
        nodeName,
        hostName: hostname(),
        shutdownTimeoutMs: config.shutdown.timeoutMs,
      }),
    );
  }
  const enricher: Enricher | null = null;
  const pipeline = new Pipeline(source, enricher, sinks, logger);
  return { pipeline, source, sinks, metrics, logger, config };
}

function summary(source: EbpfSource): string {
  const { perKind, malformed } = source.decodeStats();
  const losses = source.kernelLosses();
  const total = Object.values(perKind).reduce((a, b) => a + b, 0);
  const lost = Object.values(losses).reduce((a, b) => a + b, 0);
  const per = Object.entries(perKind)
    .map(([k, n]) => `${k}=${n}${(losses[k] ?? 0) > 0 ? `(lost ${losses[k]})` : ''}`)
    .join(' ');
  return `podtrace: ${total} events, ${lost} lost in the kernel ring buffer, ${malformed} malformed: ${per}`;
}

export async function runCommand(args: RunArgs): Promise<number> {
  const config = resolveConfig(args.config);
  if (args.probes) config.source.ebpf.probes = args.probes;
  if (args.output) {
    config.sinks.console.format = args.output;
    config.sinks.console.enabled = true;
  }
  config.nodeName ??= hostname();
  // Logs go to stderr while the console sink owns stdout.
  const logger = createLogger({ destination: process.stderr });
  const metrics = new Metrics({ defaultMetrics: true });
  const agent = buildAgent(config, logger, metrics);
  const source = agent.source as EbpfSource;
  await agent.pipeline.start();
  logger.info(
    { probes: config.source.ebpf.probes, hooks: source.hooks.filter((h) => h.attached).map((h) => h.hook) },
    'podtrace running',
  );

  let signals = 0;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`podtrace: second ${sig}, exiting now\n`);
        process.exit(130);
      }
      logger.info({ signal: sig }, 'shutting down');
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await Promise.race([
    stopped,
    agent.pipeline.finished.catch((err: unknown) =>
      logger.error({ err: errorMessage(err) }, 'source failed'),
    ),
  ]);
  const deadline = setTimeout(() => {
    process.stderr.write(`podtrace: shutdown took longer than ${config.shutdown.timeoutMs} ms, exiting\n`);
    process.exit(1);
  }, config.shutdown.timeoutMs);
  deadline.unref();
  await agent.pipeline.shutdown();
  clearTimeout(deadline);
  process.stderr.write(`${summary(source)}\n`);
  return 0;
}
