import { ConfigError } from '../core/errors';
import { parseLabelSelector } from '../enrich/meta/label-selector';
import { replayConfigProblems } from '../sources/replay-config';
import { syntheticConfigProblems } from '../sources/synthetic-config';
import { redactConfigProblems } from '../events/redact-config';
import { queueDirProblems } from '../sinks/exporter/queue-storage';
import { zstdProblem } from '../sinks/kafka/kafka-zstd-codec';
import type { PodtraceConfig } from './config';

/**
 * What the JSON schema cannot express, checked on the validated configuration by
 * validateConfig: so `podtrace config validate` refuses exactly what `podtrace run` would refuse
 * when it builds the components (each component still checks its own section too). Checks that
 * depend on the environment or on files (SASL password variables, PEM files, the OTEL_*
 * variables) stay with the component that reads them at start.
 */
export function crossFieldProblems(config: PodtraceConfig): string[] {
  const problems: string[] = [];
  if (config.source.kind === 'replay') problems.push(...replayConfigProblems(config.source.replay));
  if (config.source.kind === 'synthetic') problems.push(...syntheticConfigProblems(config.source.synthetic));
  problems.push(...redactConfigProblems(config.redact));
  if (config.sinks.otlp.redact !== undefined)
    problems.push(...redactConfigProblems({ patterns: config.sinks.otlp.redact }, 'sinks.otlp.redact'));
  const { otlp, kafka } = config.sinks;
  problems.push(
    ...queueDirProblems([
      ...(otlp.enabled ? [{ key: 'sinks.otlp.queue.dir', ...otlp.queue }] : []),
      ...(kafka.enabled ? [{ key: 'sinks.kafka.queue.dir', ...kafka.queue }] : []),
    ]),
  );
  if (kafka.enabled && kafka.compression === 'zstd') {
    const zstd = zstdProblem();
    if (zstd !== null) problems.push(zstd);
  }
  try {
    parseLabelSelector(config.filter.podSelector);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  return problems;
}
