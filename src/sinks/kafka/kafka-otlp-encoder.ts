import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logger';
import type { PodtraceEvent } from '../../events/event';
import { encodeExportTraceServiceRequest } from '../spans/encode-trace-request';
import { eventsToResourceSpans } from '../spans/resource-spans';
import { SpanMapper } from '../spans/span-mapper';
import { SpanResources, parseResourceAttributes } from '../spans/span-resources';

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/**
 * Encodes a run of events (in pipeline order: the span mapping is stateful) as one OTLP
 * `ExportTraceServiceRequest`, the value of one `otlp_proto` record; null when the events made no
 * span (fork and exec fold into the process span emitted at exit).
 */
export type OtlpRecordEncoder = (events: readonly PodtraceEvent[]) => Uint8Array | null;

export interface OtlpRecordEncoderOptions {
  nodeName: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Default: /proc/sys/kernel/random/boot_id (span ids are deterministic per boot, as in the OTLP sink). */
  bootId?: string;
  hostName?: string;
  redact?: readonly string[];
}

function readBootId(logger: Logger): string {
  try {
    return readFileSync(BOOT_ID_PATH, 'utf8').trim();
  } catch (err) {
    const fallback = randomUUID();
    logger.warn(
      { err: errorMessage(err), fallback },
      `cannot read ${BOOT_ID_PATH}: span ids are stable only within this run`,
    );
    return fallback;
  }
}

/**
 * The same spans as the OTLP sink (src/sinks/spans: SpanMapper, resources, hand-written protobuf
 * encoder), so a Collector's Kafka receiver (`otlp_proto` encoding) sees what an OTLP/gRPC receiver would.
 */
export function createOtlpRecordEncoder(options: OtlpRecordEncoderOptions): OtlpRecordEncoder {
  const resourceEnv = parseResourceAttributes(options.env.OTEL_RESOURCE_ATTRIBUTES);
  const mapper = new SpanMapper({
    bootId: options.bootId ?? readBootId(options.logger),
    resources: new SpanResources({
      hostName: options.hostName ?? hostname(),
      nodeName: options.nodeName,
      extraAttributes: resourceEnv.attributes,
    }),
    redact: options.redact,
  });
  return (events) => {
    const resourceSpans = eventsToResourceSpans({ events: events as PodtraceEvent[] }, mapper);
    return resourceSpans.length === 0 ? null : encodeExportTraceServiceRequest(resourceSpans);
  };
}
