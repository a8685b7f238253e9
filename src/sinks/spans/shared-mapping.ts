import type { Logger } from '../../core/logger';
import type { KafkaSinkConfig } from '../kafka/kafka-config';
import type { OtlpSinkConfig } from '../otlp/otlp-config';
import type { BatchMapping } from './batch-mapping';
import { createBatchMapping } from './batch-mapping';

export interface SharedMappingDeps {
  nodeName: string;
  hostName: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  instanceId: string;
  /** Applied to `process.command_args` (the agent redacts at decode and passes []). */
  redact: readonly string[];
  bootId?: string;
}

/**
 * One events → OTLP mapping for the OTLP sink and Kafka `otlp_proto` / `otlp_logs` when both are
 * on (null otherwise: each sink maps on its own). It makes every signal either sink wants, follows
 * `sinks.otlp.traces` (maxTraceSeconds, maxTrackedProcesses) for both, and gives log records the
 * trace context of their process spans whenever spans are exported by either sink.
 */
export function sharedBatchMapping(
  otlp: OtlpSinkConfig,
  kafka: KafkaSinkConfig,
  deps: SharedMappingDeps,
): BatchMapping | null {
  if (!otlp.enabled || !kafka.enabled) return null;
  const kafkaSpans = kafka.encodings.includes('otlp_proto');
  const kafkaLogs = kafka.encodings.includes('otlp_logs');
  if (!kafkaSpans && !kafkaLogs) return null;
  const spans = kafkaSpans || otlp.signals.includes('traces');
  return createBatchMapping({
    spans,
    logs: kafkaLogs || otlp.signals.includes('logs'),
    nodeName: deps.nodeName,
    hostName: deps.hostName,
    bootId: deps.bootId,
    env: deps.env,
    logger: deps.logger,
    instanceId: deps.instanceId,
    redact: deps.redact,
    maxTraceSeconds: otlp.traces.maxTraceSeconds,
    maxTrackedProcesses: otlp.traces.maxTrackedProcesses,
    logTraceContext: spans,
  });
}
