import type { EbpfSourceConfig } from '../sources/ebpf-config';
import type { ReplaySourceConfig } from '../sources/replay-config';
import type { SyntheticSourceConfig } from '../sources/synthetic-config';
import type { ConsoleSinkConfig } from '../sinks/console/console-config';
import type { EnrichConfig } from '../enrich/enrich-config';
import type { OtlpSinkConfig } from '../sinks/otlp/otlp-config';
import type { KafkaSinkConfig } from '../sinks/kafka/kafka-config';
import type { TelemetryConfig } from '../telemetry/telemetry-config';
import type { ShutdownConfig } from '../core/shutdown-config';
import type { RedactConfig } from '../events/redact-config';

export interface FilterConfig {
  includeHost: boolean;
  namespaces: string[];
  excludeNamespaces: string[];
  podSelector: string;
}

/** The validated configuration, every default filled in. */
export interface PodtraceConfig {
  nodeName?: string;
  source: {
    kind: 'ebpf' | 'replay' | 'synthetic';
    ebpf: EbpfSourceConfig;
    replay: ReplaySourceConfig;
    synthetic: SyntheticSourceConfig;
  };
  enrich: EnrichConfig;
  filter: FilterConfig;
  sinks: { console: ConsoleSinkConfig; otlp: OtlpSinkConfig; kafka: KafkaSinkConfig };
  redact: RedactConfig;
  telemetry: TelemetryConfig;
  shutdown: ShutdownConfig;
}
