import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { detectCgroup2Mount } from '../../src/enrich/cgroup/cgroup-mount';
import { PodEnricher } from '../../src/enrich/pod-enricher';
import { Pipeline } from '../../src/pipeline/pipeline';
import { ConsoleSink } from '../../src/sinks/console/console-sink';
import { createKafkaSink } from '../../src/sinks/kafka/kafka-sink';
import { createOtlpSink } from '../../src/sinks/otlp/otlp-sink';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { FileIoProcess, diskTempDir } from '../helpers/file-io';
import { KafkaMock, kafkaMockMissing, kcatMissing, kcatRead } from '../helpers/kafka-mock';
import { assertValid, validateKafkaFile } from '../helpers/kafka-schemas';
import { missingBpf, waitFor } from '../helpers/kernel';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { PodCgroups } from '../helpers/pod-cgroups';
import { describeIf } from '../helpers/prereq';

const base = detectCgroup2Mount('')?.base;

/**
 * Real file.* events from the kernel through enrichment to every sink: the console line, an OTLP
 * span named after the event (error status for a failed open) at a loopback receiver, and a
 * schema-valid JSON record on the `podtrace.file` topic of the librdkafka mock cluster.
 */
describeIf(
  missingBpf() ?? (base === undefined ? 'no cgroup2 mount' : null) ?? kafkaMockMissing() ?? kcatMissing(),
)('file.* → console, OTLP and Kafka (real kernel)', () => {
  it('carries a slow fsync and a failed open to every sink with path, duration and pod', async () => {
    const cgroups = new PodCgroups(base as string);
    const dir = diskTempDir('podtrace-file-sinks-');
    const receiver = new OtlpReceiver();
    await receiver.start(0);
    const mock = await KafkaMock.start({ brokers: 1, topics: ['podtrace.file:1:1'] });
    const config = validateConfig({
      source: { ebpf: { probes: ['file'] } },
      enrich: { cri: { enabled: false }, kubernetes: { enabled: false } },
      sinks: {
        otlp: {
          enabled: true,
          endpoint: `http://${receiver.address}`,
          insecure: true,
          batch: { maxDelayMs: 50 },
        },
        kafka: { enabled: true, brokers: mock.brokers, batch: { maxDelayMs: 20 } },
      },
    });
    const metrics = new Metrics();
    const deps = { logger: silentLogger(), metrics };
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const source = new EbpfSource(config.source.ebpf, deps);
    const enricher = new PodEnricher(config.enrich, config.filter, { ...deps, nodeName: 'n' });
    const sinks = [
      new ConsoleSink(config.sinks.console, { ...deps, out }),
      createOtlpSink(config.sinks.otlp, { ...deps, env: {}, nodeName: 'n', hostName: 'n' }),
      createKafkaSink(config.sinks.kafka, { ...deps, nodeName: 'n' }),
    ];
    const pipeline = new Pipeline(source, enricher, sinks, silentLogger());
    await pipeline.start();
    const pod = cgroups.make();
    const io = new FileIoProcess(cgroups, pod);
    const big = join(dir, 'sink.dat');
    const missing = join(dir, 'missing.conf');
    try {
      expect(await io.ask(`fsync-big ${big} 16`)).toBe('ok');
      expect(await io.ask(`open-missing ${missing}`)).toBe('ENOENT');
      const fsync = await waitFor(
        () => receiver.spans.find((s) => s.name === 'file.fsync' && s.attributes['file.path'] === big),
        'the file.fsync span',
        30_000,
      );
      expect(fsync.attributes['process.pid']).toBe(io.pid);
      expect(fsync.attributes['podtrace.file.operation']).toBe('fsync');
      expect(fsync.resource['k8s.pod.uid']).toBe(pod.podUid);
      expect(fsync.resource['container.id']).toBe(pod.containerId);
      expect(fsync.endTimeUnixNano - fsync.startTimeUnixNano).toBeGreaterThanOrEqual(1_000_000n);
      const open = await waitFor(
        () => receiver.spans.find((s) => s.name === 'file.open' && s.attributes['file.path'] === missing),
        'the file.open span',
      );
      expect(open.attributes['error.type']).toBe('ENOENT');
      expect(open.status).toEqual({ code: 'STATUS_CODE_ERROR', message: 'ENOENT' });
    } finally {
      io.stop();
      await pipeline.shutdown();
      await receiver.stop();
    }
    try {
      const values = kcatRead(mock.bootstrap, 'podtrace.file').map(
        (r) => JSON.parse(r.payload ?? 'null') as Record<string, unknown>,
      );
      for (const v of values) assertValid(validateKafkaFile, v, 'podtrace.file record');
      const rec = values.find((v) => v['event.name'] === 'file.fsync' && v['file.path'] === big);
      expect(rec?.['process.pid']).toBe(io.pid);
      expect(rec?.['k8s.pod.uid']).toBe(pod.podUid);
      expect(rec?.['duration_ns']).toBeGreaterThanOrEqual(1_000_000);
      const failed = values.find((v) => v['event.name'] === 'file.open' && v['file.path'] === missing);
      expect(failed?.['error.type']).toBe('ENOENT');
      expect(text).toMatch(new RegExp(`file\\.fsync .* fsync ${big} `));
      expect(text).toMatch(new RegExp(`file\\.open .* openat ${missing} ENOENT`));
    } finally {
      await mock.stop();
      await cgroups.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
