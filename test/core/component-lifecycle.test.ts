import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { ConsoleSink } from '../../src/sinks/console/console-sink';
import { createKafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { createOtlpSink } from '../../src/sinks/otlp/otlp-sink';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { batch, processExec } from '../helpers/events';
import { missingBpf } from '../helpers/kernel';
import { lifecycleSuite } from '../helpers/lifecycle';
import { describeIf } from '../helpers/prereq';

/** Every source, enricher and sink passes the same lifecycle table (src/core/component.ts). */
const sample = batch(
  processExec({ pid: 10, at: 2_000, procStartNs: 1_000, ppid: 1, parentStartNs: 1, comm: 'app' }),
);
const logger = silentLogger();

describe('ConsoleSink', () => {
  lifecycleSuite(
    'ConsoleSink',
    () =>
      new ConsoleSink(validateConfig({}).sinks.console, {
        logger,
        metrics: new Metrics(),
        out: new PassThrough(),
      }),
    { batch: sample },
  );
});

describe('OtlpSink', () => {
  // Nothing listens on port 1: the sink must still start and shut down within its deadline.
  lifecycleSuite(
    'OtlpSink',
    () =>
      createOtlpSink(
        validateConfig({ sinks: { otlp: { enabled: true, endpoint: 'http://127.0.0.1:1', insecure: true } } })
          .sinks.otlp,
        {
          logger,
          metrics: new Metrics(),
          env: {},
          nodeName: 'n',
          hostName: 'n',
          shutdownTimeoutMs: 1000,
        },
      ),
    { batch: sample },
  );
});

describe('KafkaSink', () => {
  lifecycleSuite(
    'KafkaSink',
    () =>
      createKafkaSink(
        validateConfig({ sinks: { kafka: { enabled: true, brokers: ['127.0.0.1:1'] } } }).sinks.kafka,
        {
          logger,
          metrics: new Metrics(),
          nodeName: 'n',
          env: {},
          shutdownTimeoutMs: 1000,
        },
      ),
    { batch: sample },
  );
});

describe('PodEnricher', () => {
  lifecycleSuite('PodEnricher', () => {
    const config = validateConfig({
      enrich: { cri: { endpoint: 'unix:///nonexistent/podtrace-cri.sock' }, kubernetes: { enabled: false } },
    });
    return new PodEnricher(config.enrich, config.filter, { logger, metrics: new Metrics(), nodeName: 'n' });
  });
});

describeIf(missingBpf())('EbpfSource', () => {
  lifecycleSuite(
    'EbpfSource',
    () => new EbpfSource(validateConfig({}).source.ebpf, { logger, metrics: new Metrics() }),
  );
});
