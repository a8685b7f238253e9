import type { PodtraceConfig } from '../config/config';
import type { Logger } from '../core/logger';
import type { Source } from '../pipeline/stages';
import type { Metrics } from '../telemetry/metrics';
import { detectCgroup2Mount } from '../enrich/cgroup/cgroup-mount';
import { EbpfSource } from './ebpf-source';
import { ReplaySource } from './replay-source';
import { SyntheticSource } from './synthetic-source';

/** The source `source.kind` names, built from its section. */
export function createSource(config: PodtraceConfig, deps: { logger: Logger; metrics: Metrics }): Source {
  switch (config.source.kind) {
    case 'replay':
      return new ReplaySource(config.source.replay, {
        logger: deps.logger.child({ component: 'replay' }),
        metrics: deps.metrics,
      });
    case 'synthetic':
      return new SyntheticSource(config.source.synthetic, {
        logger: deps.logger.child({ component: 'synthetic' }),
        metrics: deps.metrics,
        ...(config.nodeName !== undefined ? { nodeName: config.nodeName } : {}),
      });
    case 'ebpf':
      return new EbpfSource(config.source.ebpf, {
        logger: deps.logger.child({ component: 'ebpf' }),
        metrics: deps.metrics,
        cgroupPath: detectCgroup2Mount(config.enrich.cgroupBase, config.enrich.procBase)?.base ?? '',
      });
  }
}
