import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ConfigOverride } from '../config/environment';
import { loadConfig } from '../config/load-config';
import { errorMessage } from '../core/errors';
import { createLogger } from '../core/logger';
import { EXIT_UNCLEAN, shutdownOnSignal } from '../core/shutdown';
import { ReportBuilder } from '../diagnose/report-builder';
import { ReportSink } from '../diagnose/report-sink';
import { renderReportText } from '../diagnose/render-text';
import { PodEnricher } from '../enrich/pod-enricher';
import { agentRedactor } from '../events/redact-config';
import { Pipeline } from '../pipeline/pipeline';
import type { Sink } from '../pipeline/stages';
import { ConsoleSink } from '../sinks/console/console-sink';
import { createSource } from '../sources/create-source';
import { EbpfSource } from '../sources/ebpf-source';
import { locatePod } from '../target/pod-locator';
import { PodKernelScope } from '../target/pod-kernel-scope';
import { PodScope } from '../target/pod-scope';
import { detectCgroup2Mount } from '../enrich/cgroup/cgroup-mount';
import { pickContainer } from '../target/pod-target';
import { Metrics } from '../telemetry/metrics';
import { resolveConfigPath } from './config-command';
import type { TraceArgs } from './pod-args';
import { summary } from './run-command';

/** Probe groups none of whose hooks attached, with the first hook's reason. */
function unattachedGroups(source: EbpfSource): Record<string, string> {
  const out: Record<string, string> = {};
  const groups = new Set(source.hooks.map((h) => h.group));
  for (const g of groups) {
    const hooks = source.hooks.filter((h) => h.group === g);
    if (!hooks.some((h) => h.attached)) out[g] = hooks[0]?.reason ?? 'not attached';
  }
  return out;
}

function note(line: string): void {
  process.stderr.write(`podtrace: ${line}\n`);
}

/**
 * `podtrace trace -n NS POD [-c C]`: the agent's probes and enrichment, scoped to one pod of this
 * node, streamed to the console like `run` (same attribute names) until `--duration` or Ctrl-C;
 * with `--diagnose DURATION` the events are aggregated into a report instead. No sinks from the
 * config and no telemetry listener: it runs beside the agent (its own BPF programs and ring).
 */
export async function traceCommand(args: TraceArgs): Promise<number> {
  const overrides: ConfigOverride[] = [];
  if (args.probes) overrides.push({ key: 'source.ebpf.probes', value: args.probes, origin: '--probes' });
  const config = loadConfig(resolveConfigPath(args.config), process.env, overrides);
  const nodeName = config.nodeName ?? hostname();
  config.nodeName = nodeName;
  // A person is reading stdout: only warnings on stderr unless PODTRACE_LOG_LEVEL asks for more.
  const logger = createLogger({
    level: process.env.PODTRACE_LOG_LEVEL ?? 'warn',
    format: config.telemetry.log.format,
    destination: process.stderr,
  });
  const who = `pod ${args.namespace}/${args.pod}`;
  const located = await locatePod(
    { namespace: args.namespace, name: args.pod },
    {
      nodeName,
      kubernetes: config.enrich.kubernetes,
      cri: config.enrich.cri,
      commandLine: `trace -n ${args.namespace} ${args.pod}${args.diagnoseMs !== undefined ? ' --diagnose …' : ''}`,
      warn: note,
    },
  );
  located.cri?.close();
  const target = located.target;
  if (args.container !== undefined) pickContainer(target, args.container);
  const metrics = new Metrics();
  // Secrets in argv are redacted at decode (the top-level `redact:`), as for `podtrace run`.
  const source = createSource(config, { logger, metrics, redactor: agentRedactor(config, note) });
  // The pod's namespace may be excluded by the agent's filters: trace applies its own scope.
  const enricher = new PodEnricher(
    config.enrich,
    { includeHost: true, namespaces: [], excludeNamespaces: [], podSelector: '' },
    { logger: logger.child({ component: 'enrich' }), metrics, nodeName },
  );
  // In-kernel scope on the pod's cgroups where the source is the kernel and the cgroup is found.
  const mount = detectCgroup2Mount(config.enrich.cgroupBase, config.enrich.procBase);
  const kernel =
    source instanceof EbpfSource && mount !== null
      ? PodKernelScope.start(source.scope, mount.base, target.uid)
      : null;
  if (source instanceof EbpfSource && kernel === null)
    note(
      `the cgroup of ${who} was not found under ${mount?.base ?? 'the cgroup2 mount'}: filtering in user space`,
    );
  const scope = new PodScope(enricher, target.uid, args.container ?? null, kernel);
  const diagnose = args.diagnoseMs !== undefined;
  const builder = new ReportBuilder(new Set(config.source.ebpf.probes));
  const sinks: Sink[] = diagnose
    ? [new ReportSink(builder)]
    : [
        new ConsoleSink(
          { enabled: true, format: args.output ?? config.sinks.console.format },
          { logger, metrics },
        ),
      ];
  const pipeline = new Pipeline(source, scope, sinks, logger);
  const handle = shutdownOnSignal({
    timeoutMs: config.shutdown.timeoutMs,
    logger,
    exit: () => undefined,
    shutdown: () => pipeline.shutdown(),
  });
  try {
    await pipeline.start();
  } catch (err) {
    handle.dispose();
    await pipeline.shutdown();
    throw err;
  }
  const windowMs = args.diagnoseMs ?? args.durationMs;
  const started = Date.now();
  let timedOut = false;
  const timer =
    windowMs === undefined
      ? null
      : setTimeout(() => {
          timedOut = true;
          void handle.trigger('duration');
        }, windowMs);
  const container = args.container === undefined ? '' : `, container ${args.container}`;
  note(
    diagnose
      ? `collecting ${((windowMs ?? 0) / 1000).toFixed(1)} s of ${who}${container} (node ${target.node}); Ctrl-C ends early`
      : `tracing ${who}${container} (node ${target.node})${windowMs === undefined ? '; Ctrl-C stops' : ''}`,
  );
  pipeline.finished.then(
    () => void handle.trigger('source ended'),
    (err: unknown) => {
      logger.error({ err: errorMessage(err) }, 'source failed');
      void handle.trigger('source failed', EXIT_UNCLEAN);
    },
  );
  const code = await handle.done;
  if (timer !== null) clearTimeout(timer);
  const ended = Date.now();
  process.stderr.write(`${summary(source)}\n`);
  const scoped =
    source instanceof EbpfSource ? Object.values(source.kernelDrops().scoped).reduce((a, n) => a + n, 0) : 0;
  note(
    `${scope.kept} events of ${who}${container}; ${scope.unattributed} events not attributable to any pod; ` +
      (kernel === null
        ? 'filtered in user space'
        : `in-kernel scope: ${kernel.listed} cgroups of the pod, ${scoped} records of other cgroups not produced`),
  );
  if (diagnose) {
    const report = builder.build({
      target,
      window: {
        start: new Date(started).toISOString(),
        end: new Date(ended).toISOString(),
        durationMs: ended - started,
        requestedMs: args.diagnoseMs ?? 0,
        stoppedEarly: !timedOut,
      },
      kernelLost: source instanceof EbpfSource ? source.kernelLosses() : {},
      unattached: source instanceof EbpfSource ? unattachedGroups(source) : {},
      unattributed: scope.unattributed,
    });
    const text =
      args.reportFormat === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReportText(report);
    if (args.report !== undefined) {
      writeFileSync(args.report, text);
      note(`report written to ${args.report}`);
    } else process.stdout.write(text);
  }
  return code;
}
