import { spawn } from 'node:child_process';
import { silentLogger } from '../../src/core/logger';
import { validateConfig } from '../../src/config/load-config';
import { Pipeline } from '../../src/pipeline/pipeline';
import { createOtlpSink } from '../../src/sinks/otlp/otlp-sink';
import { SPAN_NAMES } from '../../src/sinks/spans/span-mapper';
import { EbpfSource } from '../../src/sources/ebpf-source';
import { Metrics } from '../../src/telemetry/metrics';
import { missingBpf, waitFor } from '../helpers/kernel';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { describeIf } from '../helpers/prereq';

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid ?? -1));
  });
}

describeIf(missingBpf())('eBPF source → OTLP sink (real kernel, loopback receiver)', () => {
  it('delivers a process tree as one trace with correct parent/child ids and fixed span names', async () => {
    const receiver = new OtlpReceiver();
    await receiver.start(0);
    const config = validateConfig({
      sinks: {
        otlp: {
          enabled: true,
          endpoint: `http://${receiver.address}`,
          insecure: true,
          batch: { maxDelayMs: 50 },
        },
      },
    });
    const metrics = new Metrics();
    const source = new EbpfSource(config.source.ebpf, { logger: silentLogger(), metrics });
    const sink = createOtlpSink(config.sinks.otlp, {
      logger: silentLogger(),
      metrics,
      env: {},
      nodeName: 'node-e2e',
      hostName: 'node-e2e',
    });
    const pipeline = new Pipeline(source, null, [sink], silentLogger());
    await pipeline.start();
    try {
      const shPid = await run('/bin/sh', ['-c', '/bin/true; /bin/true']);
      const shSpan = await waitFor(
        () => receiver.spans.find((s) => s.name === 'process' && s.attributes['process.pid'] === shPid),
        'the sh process span',
      );
      const children = await waitFor(() => {
        const c = receiver.spans.filter((s) => s.name === 'process' && s.parentSpanId === shSpan.spanId);
        return c.length >= 2 ? c : undefined;
      }, 'two child process spans');
      for (const c of children) {
        expect(c.traceId).toBe(shSpan.traceId);
        expect(c.attributes['process.executable.path']).toBe('/bin/true');
        expect(c.attributes['process.parent_pid']).toBe(shPid);
        expect(c.endTimeUnixNano).toBeGreaterThanOrEqual(c.startTimeUnixNano);
      }
      expect(shSpan.attributes['process.exit.code']).toBe(0);
      expect(receiver.spans.every((s) => SPAN_NAMES.includes(s.name))).toBe(true);
    } finally {
      await pipeline.shutdown();
      await receiver.stop();
    }
  });
});
