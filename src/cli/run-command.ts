import { hostname } from 'node:os';
import { loadConfig } from '../config/load-config';
import type { ConfigOverride } from '../config/environment';
import type { PodtraceConfig } from '../config/config';
import { createLogger } from '../core/logger';
import type { Logger } from '../core/logger';
import { errorMessage } from '../core/errors';
import { agentInstanceId } from '../core/instance-id';
import { EXIT_CLEAN, EXIT_UNCLEAN, EXIT_UNDELIVERED, shutdownOnSignal } from '../core/shutdown';
import { routeProcessWarnings } from '../core/process-warnings';
import { Pipeline } from '../pipeline/pipeline';
import type { Enricher, Sink, Source } from '../pipeline/stages';
import { ConsoleSink } from '../sinks/console/console-sink';
import { createOtlpSink } from '../sinks/otlp/otlp-sink';
import { createKafkaSink } from '../sinks/kafka/kafka-sink';
import { sharedBatchMapping } from '../sinks/spans/shared-mapping';
import { PodEnricher } from '../enrich/pod-enricher';
import { detectAttributionMode } from '../enrich/cgroup/attribution-mode';
import { EbpfSource } from '../sources/ebpf-source';
import { createSource } from '../sources/create-source';
import { agentRedactor } from '../events/redact-config';
import { ReplaySource } from '../sources/replay-source';
import { Metrics } from '../telemetry/metrics';
import { Readiness, ReadinessFlag } from '../telemetry/readiness';
import { TelemetryServer } from '../telemetry/telemetry-server';
import { RUN_USAGE } from './args';
import type { RunArgs } from './args';
import { parseSetFlag, resolveConfigPath } from './config-command';
import { formatCheck, kernelChecks } from './check-command';

/** Flags become config overrides, so errors name the flag (`--probes`) as the origin. */
export function runOverrides(args: RunArgs): ConfigOverride[] {
  // --set first: the dedicated flags (--probes, --output) win over a --set of the same key.
  const out: ConfigOverride[] = (args.set ?? []).map(parseSetFlag);
  if (args.probes) out.push({ key: 'source.ebpf.probes', value: args.probes, origin: '--probes' });
  if (args.output) {
    out.push({ key: 'sinks.console.format', value: args.output, origin: '--output' });
    out.push({ key: 'sinks.console.enabled', value: true, origin: '--output' });
  }
  return out;
}

export interface Agent {
  pipeline: Pipeline;
  source: Source;
  sinks: Sink[];
  readiness: Readiness;
  /** Set once the probes are attached (the /readyz check `source.ebpf`). */
  attached: ReadinessFlag;
}

/** Builds the agent from a validated config. */
export function buildAgent(config: PodtraceConfig, logger: Logger, metrics: Metrics): Agent {
  const nodeName = config.nodeName ?? hostname();
  const readiness = new Readiness(metrics);
  // Secrets in argv are redacted once, at decode, for every sink and the console; the sinks'
  // own redaction (their library default) is switched off so it does not run a second time.
  const redactor = agentRedactor(config, (m) => logger.warn(m));
  config.sinks.otlp.redact = [];
  // One decision for the BPF programs (which cgroup ids to stamp) and the enricher (how to read them).
  const attribution = detectAttributionMode(config.enrich);
  const source = createSource(config, { logger, metrics, attribution, redactor });
  const attached = new ReadinessFlag('source not started yet');
  readiness.register(`source.${config.source.kind}`, attached);
  const sinks: Sink[] = [];
  // Events are mapped to the OTLP model once per batch for both sinks that export it.
  const mapping =
    sharedBatchMapping(config.sinks.otlp, config.sinks.kafka, {
      nodeName,
      hostName: hostname(),
      env: process.env,
      logger,
      instanceId: agentInstanceId(),
      redact: [],
    }) ?? undefined;
  if (config.sinks.console.enabled) sinks.push(new ConsoleSink(config.sinks.console, { logger, metrics }));
  if (config.sinks.otlp.enabled) {
    const otlp = createOtlpSink(config.sinks.otlp, {
      logger: logger.child({ component: 'otlp' }),
      metrics,
      env: process.env,
      nodeName,
      hostName: hostname(),
      shutdownTimeoutMs: config.shutdown.timeoutMs,
      instanceId: agentInstanceId(),
      mapping,
    });
    readiness.registerHealth('sinks.otlp', otlp); // reported, never gates readiness
    sinks.push(otlp);
  }
  if (config.sinks.kafka.enabled) {
    const kafka = createKafkaSink(config.sinks.kafka, {
      logger: logger.child({ component: 'kafka' }),
      metrics,
      nodeName,
      hostName: hostname(),
      env: process.env,
      shutdownTimeoutMs: config.shutdown.timeoutMs,
      instanceId: agentInstanceId(),
      redact: [],
      mapping,
      lossSource: () => Promise.resolve(source instanceof EbpfSource ? source.kernelLosses() : {}),
    });
    readiness.registerHealth('sinks.kafka', kafka); // reported, never gates readiness
    sinks.push(kafka);
  }
  let enricher: Enricher | null = null;
  if (config.enrich.enabled) {
    const pods = new PodEnricher(config.enrich, config.filter, {
      logger: logger.child({ component: 'enrich' }),
      metrics,
      nodeName,
      attribution,
      ...(source instanceof EbpfSource ? { kernelScope: source.scope } : {}),
    });
    readiness.register('enrich', pods);
    enricher = pods;
  }
  const pipeline = new Pipeline(source, enricher, sinks, logger, metrics);
  return { pipeline, source, sinks, readiness, attached };
}

export function summary(source: Source): string {
  if (source instanceof ReplaySource) {
    const { records, malformed } = source.decodeStats;
    return `podtrace: replayed ${records} events, ${malformed} malformed records skipped`;
  }
  if (!(source instanceof EbpfSource)) return `podtrace: ${source.name} source stopped`;
  const { perKind, malformed } = source.decodeStats();
  const losses = source.kernelLosses();
  const total = Object.values(perKind).reduce((a, b) => a + b, 0);
  const lost = Object.values(losses).reduce((a, b) => a + b, 0);
  const per = Object.entries(perKind)
    .map(([k, n]) => `${k}=${n}${(losses[k] ?? 0) > 0 ? `(lost ${losses[k]})` : ''}`)
    .join(' ');
  return `podtrace: ${total} events, ${lost} lost in the kernel ring buffer, ${malformed} malformed: ${per}`;
}

/** One line per exporting sink: everything delivered, or how many events the shutdown deadline cut off. */
export function deliverySummary(sinks: readonly Sink[]): string[] {
  return sinks
    .filter((s) => s.undeliveredAtShutdown !== undefined)
    .map((s) => {
      const n = s.undeliveredAtShutdown ?? 0;
      const kept = s.keptOnDisk ?? 0;
      const line =
        n === 0
          ? `podtrace: sink ${s.name}: everything accepted was delivered or counted before shutdown`
          : `podtrace: sink ${s.name}: ${n} events not delivered by the shutdown deadline (counted in podtrace_dropped_total{stage="${s.name}"})`;
      return kept === 0
        ? line
        : `podtrace: sink ${s.name}: ${kept} events kept in the disk queue, sent after the next start`;
    });
}

/**
 * A start that failed on a node `podtrace check` would reject (missing capabilities, no BTF, an
 * old kernel) fails with check's lines and hints, not only the loader's errno.
 */
export function withPreflight(err: unknown, config: PodtraceConfig): unknown {
  if (config.source.kind !== 'ebpf') return err;
  let failing: string[];
  try {
    failing = kernelChecks(config.enrich.procBase)
      .filter((r) => r.status === 'fail')
      .map(formatCheck);
  } catch {
    return err;
  }
  if (failing.length === 0) return err;
  return new Error(`${errorMessage(err)}\npodtrace check:\n${failing.join('\n')}`, { cause: err });
}

export async function runCommand(args: RunArgs): Promise<number> {
  if (args.help === true) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return 0;
  }
  const config = loadConfig(resolveConfigPath(args.config), process.env, runOverrides(args));
  config.nodeName ??= hostname();
  // Logs go to stderr while the console sink owns stdout.
  const logger = createLogger({
    level: config.telemetry.log.level,
    format: config.telemetry.log.format,
    destination: config.sinks.console.enabled ? process.stderr : process.stdout,
  });
  routeProcessWarnings(logger);
  const metrics = new Metrics({ defaultMetrics: true });
  const agent = buildAgent(config, logger, metrics);
  const telemetry = config.telemetry.enabled
    ? new TelemetryServer({ listen: config.telemetry.listen, metrics, readiness: agent.readiness, logger })
    : null;
  const handle = shutdownOnSignal({
    timeoutMs: config.shutdown.timeoutMs,
    logger,
    exit: () => undefined,
    shutdown: async (_reason, deadlineAt) => {
      await agent.pipeline.shutdown(deadlineAt);
      await telemetry?.shutdown();
      return agent.sinks.some((s) => (s.undeliveredAtShutdown ?? 0) > 0) ? EXIT_UNDELIVERED : EXIT_CLEAN;
    },
  });
  try {
    await telemetry?.start();
    await agent.pipeline.start();
    const source = agent.source;
    const detail =
      source instanceof EbpfSource
        ? source.hooks
            .filter((h) => h.attached)
            .map((h) => h.hook)
            .join(', ')
        : `${source.name} source running`;
    agent.attached.set(true, detail);
  } catch (err) {
    handle.dispose();
    await agent.pipeline.shutdown();
    await telemetry?.shutdown();
    throw withPreflight(err, config);
  }
  logger.info(
    { node: config.nodeName, probes: config.source.ebpf.probes, sinks: agent.sinks.map((s) => s.name) },
    'podtrace running',
  );
  agent.pipeline.finished.then(
    () => void handle.trigger('source ended'),
    (err: unknown) => {
      logger.error({ err: errorMessage(err) }, 'source failed');
      void handle.trigger('source failed', EXIT_UNCLEAN);
    },
  );
  const code = await handle.done;
  process.stderr.write(`${summary(agent.source)}\n`);
  for (const line of deliverySummary(agent.sinks)) process.stderr.write(`${line}\n`);
  return code;
}
