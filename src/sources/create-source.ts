import type { PodtraceConfig } from '../config/config';
import type { Logger } from '../core/logger';
import type { AttributionMode } from '../enrich/cgroup/attribution-mode';
import type { Source } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import type { Redactor } from '../events/redact';
import { cgroupProgramRoot } from '../enrich/cgroup/cgroup-mount';
import { EbpfSource } from './ebpf-source';
import { ReplaySource } from './replay-source';
import { SyntheticSource } from './synthetic-source';

/** The source `source.kind` names, built from its section. */
export function createSource(
  config: PodtraceConfig,
  deps: { logger: Logger; metrics: Metrics; attribution?: AttributionMode; redactor?: Redactor },
): Source {
  const redactor = deps.redactor === undefined ? {} : { redactor: deps.redactor };
  switch (config.source.kind) {
    case 'replay':
      return new ReplaySource(config.source.replay, {
        logger: deps.logger.child({ component: 'replay' }),
        metrics: deps.metrics,
        ...redactor,
      });
    case 'synthetic':
      return new SyntheticSource(config.source.synthetic, {
        logger: deps.logger.child({ component: 'synthetic' }),
        metrics: deps.metrics,
        ...redactor,
        ...(config.nodeName !== undefined ? { nodeName: config.nodeName } : {}),
      });
    case 'ebpf':
      return new EbpfSource(config.source.ebpf, {
        logger: deps.logger.child({ component: 'ebpf' }),
        metrics: deps.metrics,
        ...redactor,
        ...(deps.attribution !== undefined && deps.attribution.mode === 'v1'
          ? { attribution: { hierarchyId: deps.attribution.hierarchyId, v1Ssid: deps.attribution.v1Ssid } }
          : {}),
        cgroupPath: cgroupProgramRoot(config.enrich, deps.attribution?.mode === 'v1'),
      });
  }
}
